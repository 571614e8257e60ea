"""Which reports a conference needs, and when each is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cpc_shared.contracts.outbound import ConferenceScheduled


@dataclass(frozen=True)
class ReportNeeded:
    agency: str
    author_role: str
    due_at: datetime


def reports_needed(conference: ConferenceScheduled, partner_hours_before: int) -> list[ReportNeeded]:
    """The social worker's report, and one from each other agency invited, due before the conference."""
    due_at = conference.starts_at - timedelta(hours=partner_hours_before)
    needed: dict[str, ReportNeeded] = {}
    for invitee in conference.invitees:
        if invitee.role == "social_worker":
            needed["childrens_social_care"] = ReportNeeded("childrens_social_care", "social_worker", due_at)
        elif invitee.role == "professional" and invitee.agency and invitee.agency != "childrens_social_care":
            needed.setdefault(invitee.agency, ReportNeeded(invitee.agency, "professional", due_at))
    return list(needed.values())
