"""Which reports a conference needs, and when each is due under the council's policy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
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
    short_notice: bool = False  # the agency has less time than the council's usual to write it


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
    local = starts_at.astimezone(zone)
    if due.hours_before is not None:
        if due.hours_on == "every_day":
            return starts_at - timedelta(hours=due.hours_before)
        return hours_on_working_days_before(local, due.hours_before, calendar, zone)
    day = local.date()
    by_kind: dict[str, int] = {k: v for k, v in (due.working_days_before or {}).items()}
    for _ in range(by_kind.get(kind, 0)):
        day = calendar.on_or_before(day - timedelta(days=1))
    return datetime.combine(day, local.time(), tzinfo=zone)


def hours_on_working_days_before(local: datetime, hours: int, calendar: WorkingDayCalendar, zone: ZoneInfo) -> datetime:
    """`hours` before `local`, counting only the hours of working days: the clock stops at weekends, bank
    holidays and closure days, as a council means "48 hours before" (a Monday 09:30 conference: Thursday 09:30)."""
    day, into_day = local.date(), local.replace(tzinfo=None) - datetime.combine(local.date(), time())
    remaining = timedelta(hours=hours)
    while True:
        if calendar.is_working_day(day):
            if into_day >= remaining:
                return (datetime.combine(day, time()) + into_day - remaining).replace(tzinfo=zone)
            remaining -= into_day
        day, into_day = day - timedelta(days=1), timedelta(days=1)


def due_times(needed: ReportNeeded, starts_at: datetime, kind: str, rules: ReportRules,
              calendar: WorkingDayCalendar, zone: ZoneInfo, requested_at: datetime | None = None) -> DueTimes:
    """When the report is due under the council's rule. The statutory deadline can put a conference sooner
    than the rule's usual time to write allows: then the window is short (and the agency is told so), and a
    due time already past when the report is asked for moves to the latest that is still ahead."""
    is_social_worker = needed.author_role == "social_worker"
    due = before(starts_at, kind, (rules.social_worker or rules.partners) if is_social_worker else rules.partners,
                 calendar, zone)
    share = before(starts_at, kind, rules.share_with_family, calendar, zone) \
        if is_social_worker and rules.share_with_family else None
    if share is not None:
        due = min(due, share)  # it must be in before it can reach the parents
    short_notice = False
    if requested_at is not None:
        local = requested_at.astimezone(zone)
        usual = datetime.combine(calendar.add_working_days(local.date(), rules.preparation_working_days), local.time(),
                                 tzinfo=zone)
        short_notice = due < usual
        due = still_ahead(due, starts_at, requested_at, calendar, zone)
        share = max(share, due) if share else None
    return DueTimes(due_at=due, share_with_family_by=share, short_notice=short_notice,
                    escalate_at=due + timedelta(hours=rules.escalate_to_chair_after_hours))


def still_ahead(due: datetime, starts_at: datetime, now: datetime, calendar: WorkingDayCalendar, zone: ZoneInfo
                ) -> datetime:
    """`due`, or when it has passed, the same time on the working day before the conference, or at the latest
    the conference's start."""
    if due > now:
        return due
    local = starts_at.astimezone(zone)
    day_before = datetime.combine(calendar.on_or_before(local.date() - timedelta(days=1)), local.time(), tzinfo=zone)
    return day_before if day_before > now else starts_at
