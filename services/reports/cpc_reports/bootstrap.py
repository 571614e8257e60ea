"""The composition root: the reports service's adapters, wired once."""

from __future__ import annotations

from cpc_shared.family_link import FamilyLinks
from cpc_shared.repository import Repository
from cpc_shared.sealing import Seal
from cpc_shared.service import Service
from cpc_shared.settings import FamilySettings, StaffApiSettings
from pydantic import Field

from cpc_reports.adapters.store import ALERTS, CONFERENCES, FAMILY_VIEWS, REPORTS, GridFsFiles, prepare
from cpc_reports.domain.family_views import FamilyViews
from cpc_reports.domain.files import MAX_BYTES
from cpc_reports.domain.report import Alert, ConferenceReports, ReportRequest
from cpc_reports.family.limits import RateLimit
from cpc_reports.handlers import Reports


class ReportsSettings(StaffApiSettings, FamilySettings):
    report_max_bytes: int = Field(MAX_BYTES, gt=0, description="Largest report file accepted.")
    timer_poll_seconds: float = Field(2.0, gt=0, description="How often due times are checked.")
    family_form_requests_per_link: int = Field(
        30, gt=0, description="Requests one family link may make to the form in 10 minutes (then 429).",
        examples=[30])
    family_form_requests_per_address: int = Field(
        300, gt=0, description="Requests one network address may make to the family's form in a minute (then 429); "
        "behind a proxy every family shares its address, so keep it well above the per-link limit.", examples=[300])


def bootstrap(settings: ReportsSettings) -> tuple[Service, Reports]:
    service = Service(
        "reports", settings, outbox_collections=[REPORTS, CONFERENCES, ALERTS, FAMILY_VIEWS], prepare_store=prepare,
        description="Report requests to the social worker and every invited agency, submissions, and chasers; "
                    "the family's views before the conference.",
    )
    profile = settings.profile()
    desk = Reports(reports=Repository(service.store, ReportRequest, service.relay),
                   conferences=Repository(service.store, ConferenceReports, service.relay),
                   alerts=Repository(service.store, Alert, service.relay), files=GridFsFiles(service.db),
                   profile=profile, calendar=profile.calendar(), clock=service.clock,
                   max_bytes=settings.report_max_bytes,
                   family_views=Repository(service.store, FamilyViews, service.relay),
                   seal=Seal(settings.contact_key.get_secret_value()),
                   links=FamilyLinks(settings.family_link_key.get_secret_value()))
    return service, desk


def form_limits(settings: ReportsSettings) -> tuple[RateLimit, RateLimit]:
    """How often the family's form may be asked for: per link (10 minutes), per address (a minute)."""
    return RateLimit(settings.family_form_requests_per_link, 600), RateLimit(settings.family_form_requests_per_address, 60)
