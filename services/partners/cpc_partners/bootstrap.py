"""The composition root: the partners service's adapters, wired once."""

from __future__ import annotations

from cpc_shared.broker import kafka_client_options
from cpc_shared.contracts import Topics
from cpc_shared.progress import GroupProgress
from cpc_shared.repository import Repository
from cpc_shared.service import Service
from cpc_shared.settings import ProfiledSettings
from pymongo.asynchronous.database import AsyncDatabase

from cpc_partners.domain.projection import Case, Conference, Council, Report
from cpc_partners.handlers import Partners

COLLECTIONS = [Case.collection, Conference.collection, Report.collection]


async def prepare(db: AsyncDatabase) -> None:
    """Every document is read by `_id`: no index beyond it."""


def bootstrap(settings: ProfiledSettings) -> tuple[Service, Partners]:
    service = Service(
        "partners", settings, outbox_collections=COLLECTIONS, prepare_store=prepare,
        description="The published language for partner systems: NHS CP-IS's plans and each agency's invitations, "
        "report requests and outcomes, on the public partner.* topics.",
    )
    profile = settings.profile()
    group = service.group_for(Topics.CONFERENCES)
    conferences_read = GroupProgress(kafka_client_options(settings), Topics.CONFERENCES, group)
    service.reads_offsets(group, [Topics.CONFERENCES])
    service.on_close(conferences_read.close)
    partners = Partners(
        cases=Repository(service.store, Case, service.relay),
        conferences=Repository(service.store, Conference, service.relay),
        reports=Repository(service.store, Report, service.relay),
        council=Council(id=profile.council_id, name=profile.council),
        clock=service.clock,
        conferences_read=conferences_read,
    )
    return service, partners
