"""What the dashboard shows, in the team's words: the fortnight on the service's clock (this week and next), and
which conferences are at risk of missing their deadline, and why. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from cpc_scheduling.domain.conference import WAITING_FOR_ROOM, Conference, ConferenceStatus, Council

DAYS_SHOWN = 14  # this week and next, from Monday


def first_monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def this_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Standing:
    """Reports' facts about one conference (the reports service's /api/conference-reports), or unknown."""

    known: bool = False
    reports: tuple[tuple[str, int], ...] = ()
    missing: tuple[str, ...] = ()
    family_views: tuple[str, ...] = ()  # the roles of the family members who wrote

    @classmethod
    def of(cls, facts: dict[str, Any]) -> Standing:
        return cls(known=bool(facts.get("known")), reports=tuple(facts.get("reports", {}).items()),
                   missing=tuple(facts.get("missing", ())),
                   family_views=tuple(view["role"] for view in facts.get("family_views", ())))

    def count(self, standing: str) -> int:
        return dict(self.reports).get(standing, 0)


def _words(code: str | None) -> str:
    return (code or "").replace("_", " ")


def risks(conference: Conference, today: date, council: Council, standing: Standing | None = None) -> list[str]:
    """Why a conference still to be held may miss its statutory deadline (empty when it is on course)."""
    if not conference.upcoming:
        return []
    deadline, reasons = conference.statutory_deadline, []
    if conference.status == ConferenceStatus.UNSCHEDULED:
        reasons.append("no date yet" + (f": {_words(conference.late_reason)}" if conference.late_reason else ""))
    elif conference.status in WAITING_FOR_ROOM:
        reasons.append("waiting for a room")
    if conference.starts_at and council.local_date(conference.starts_at) > deadline:
        reasons.append(f"planned after its deadline ({_words(conference.late_reason) or 'no reason recorded'})")
    if deadline < today:
        reasons.append("deadline passed, not held")
    if standing and standing.missing:
        reasons.append(f"reports missing: {', '.join(_words(agency) for agency in standing.missing)}")
    return reasons
