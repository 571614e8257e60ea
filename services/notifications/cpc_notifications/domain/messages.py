"""Invitations in plain English: what is happening, when, where, and who will be there."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cpc_shared.contracts.inbound import FAMILY_ROLES
from cpc_shared.contracts.outbound import ConferenceScheduled

ROLE_NAMES = {
    "parent": "a parent", "carer": "a carer", "child": "the child", "social_worker": "the social worker",
    "team_manager": "the social worker's manager", "professional": "a professional", "advocate": "an advocate",
    "interpreter": "an interpreter",
}
AGENCY_NAMES = {
    "childrens_social_care": "children's social care", "health": "health", "police": "the police",
    "education": "school or college", "probation": "probation", "housing": "housing", "other": "another service",
}


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


def who_will_be_there(conference: ConferenceScheduled) -> list[str]:
    people = ["the chair, who runs the meeting"]
    for invitee in conference.invitees:
        if invitee.role == "professional" and invitee.agency:
            people.append(f"someone from {AGENCY_NAMES[invitee.agency]}")
        else:
            people.append(ROLE_NAMES[invitee.role])
    return people


def invitation(conference: ConferenceScheduled, role: str, place: str, timezone: str) -> Message:
    when = conference.starts_at.astimezone(ZoneInfo(timezone))
    day = when.strftime("%A %-d %B %Y")
    at = when.strftime("%-I:%M%p").lower()
    where = (
        f"How to join: online, using this link: {conference.meeting_link}"
        if conference.attendance_mode == "virtual"
        else f"Where: {place}"
    )
    people = "\n".join(f"  - {person}" for person in who_will_be_there(conference))
    if role in FAMILY_ROLES:
        body = f"""Hello,

We are holding a meeting about your child's safety. It is called a child protection conference.
People who know your family will meet with you. Together we will decide how to keep your child safe.

When: {day} at {at}
{where}

Who will be there:
{people}

You can speak at the meeting. The chair will ask you to speak after the social worker has shared
their report. You can bring someone to support you, or an advocate.
If you need an interpreter, we will arrange one for you. It will not be someone from your family.

If you have questions, please contact your social worker.
"""
        return Message(subject="Your child protection conference", body=body)
    body = f"""You are invited to a child protection conference (reference {conference.conference_id}).

When: {day} at {at}
{where}
Type: {conference.conference_type.replace('_', ' ')} conference; statutory deadline {conference.statutory_deadline:%-d %B %Y}.

Who is invited:
{people}

Please send your report before the conference when the request reaches you.
"""
    return Message(subject=f"Child protection conference {conference.conference_id}", body=body)
