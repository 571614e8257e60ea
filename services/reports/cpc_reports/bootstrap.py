"""The composition root: the reports service's adapters, wired once."""

from __future__ import annotations

from cpc_shared.repository import Repository
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings
from pydantic import Field

from cpc_reports.adapters.store import ALERTS, CONFERENCES, REPORTS, GridFsFiles, prepare
from cpc_reports.domain.files import MAX_BYTES
from cpc_reports.domain.report import Alert, ConferenceReports, ReportRequest
from cpc_reports.handlers import Reports


class ReportsSettings(StaffApiSettings):
    report_max_bytes: int = Field(MAX_BYTES, gt=0, description="Largest report file accepted.")
    timer_poll_seconds: float = Field(2.0, gt=0, description="How often due times are checked.")


def bootstrap(settings: ReportsSettings) -> tuple[Service, Reports]:
    service = Service(
        "reports", settings, outbox_collections=[REPORTS, CONFERENCES, ALERTS], prepare_store=prepare,
        description="Report requests to the social worker and every invited agency, submissions, and chasers.",
    )
    profile = settings.profile()
    desk = Reports(reports=Repository(service.store, ReportRequest, service.relay),
                   conferences=Repository(service.store, ConferenceReports, service.relay),
                   alerts=Repository(service.store, Alert, service.relay), files=GridFsFiles(service.db),
                   profile=profile, calendar=profile.calendar(), clock=service.clock,
                   max_bytes=settings.report_max_bytes)
    return service, desk
