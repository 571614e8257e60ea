"""Which reports a conference needs, and when each is due under the council's policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import Invitee
from cpc_shared.profile import ReportDue, ReportRules


@dataclass(frozen=True)
class ReportNeeded:
    agency: str
    author_role: str


@dataclass(frozen=True)
class DueTimes:
    due_at: datetime
    share_with_family_by: datetime | None
    escalate_at: datetime


def reports_needed(invitees: list[Invitee]) -> list[ReportNeeded]:
    """The social worker's report, and one from each other agency invited."""
    needed: dict[str, ReportNeeded] = {}
    for invitee in invitees:
        if invitee.role == "social_worker":
            needed["childrens_social_care"] = ReportNeeded("childrens_social_care", "social_worker")
        elif invitee.role == "professional" and invitee.agency and invitee.agency != "childrens_social_care":
            needed.setdefault(invitee.agency, ReportNeeded(invitee.agency, "professional"))
    return sorted(needed.values(), key=lambda r: r.agency)


def before(starts_at: datetime, kind: str, due: ReportDue, calendar: WorkingDayCalendar, zone: ZoneInfo) -> datetime:
    """`due` before the conference: hours earlier, or the same time of day so many working days earlier."""
    if due.hours_before is not None:
        return starts_at - timedelta(hours=due.hours_before)
    local = starts_at.astimezone(zone)
    day = local.date()
    for _ in range((due.working_days_before or {}).get(kind, 0)):
        day = calendar.on_or_before(day - timedelta(days=1))
    return datetime.combine(day, local.time(), tzinfo=zone)


def due_times(needed: ReportNeeded, starts_at: datetime, kind: str, rules: ReportRules,
              calendar: WorkingDayCalendar, zone: ZoneInfo) -> DueTimes:
    is_social_worker = needed.author_role == "social_worker"
    due = before(starts_at, kind, (rules.social_worker or rules.partners) if is_social_worker else rules.partners,
                 calendar, zone)
    share = before(starts_at, kind, rules.share_with_family, calendar, zone) \
        if is_social_worker and rules.share_with_family else None
    if share is not None:
        due = min(due, share)  # it must be in before it can reach the parents
    return DueTimes(due_at=due, share_with_family_by=share,
                    escalate_at=due + timedelta(hours=rules.escalate_to_chair_after_hours))
