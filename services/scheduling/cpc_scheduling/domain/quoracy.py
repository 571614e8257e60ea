"""Quoracy: children's social care plus at least two other agencies (docs/domain.md)."""

from __future__ import annotations

from collections.abc import Iterable

from cpc_shared.contracts.outbound import Invitee

OTHER_AGENCIES_NEEDED = 2


def agencies_expected(invitees: Iterable[Invitee]) -> set[str]:
    return {i.agency for i in invitees if i.agency and i.role in ("social_worker", "team_manager", "professional")}


def is_quorate(invitees: Iterable[Invitee]) -> bool:
    agencies = agencies_expected(invitees)
    return "childrens_social_care" in agencies and len(agencies - {"childrens_social_care"}) >= OTHER_AGENCIES_NEEDED


def quorum_shortfall(invitees: Iterable[Invitee]) -> str | None:
    """Why the invited list cannot make a quorate conference, or None if it can."""
    agencies = agencies_expected(invitees)
    missing = []
    if "childrens_social_care" not in agencies:
        missing.append("children's social care")
    others = len(agencies - {"childrens_social_care"})
    if others < OTHER_AGENCIES_NEEDED:
        missing.append(f"{OTHER_AGENCIES_NEEDED - others} more agency")
    return ("not invited: " + " and ".join(missing)) if missing else None
