"""A family who needs an interpreter: one is requested for the conference, and their invitation says so."""

from __future__ import annotations

import pytest

from tests.conftest import mails_for, new_request, schedule

pytestmark = pytest.mark.e2e


async def test_an_interpreter_is_requested_for_the_familys_language_and_the_invitation_says_one_is_booked(
        running_services, watcher):
    family = {**new_request()["family"], "language": "pl", "interpreter_needed": True}
    _, conference = await schedule(watcher, running_services, family=family)
    cid = conference["conference_id"]

    def requested() -> list:
        return watcher.of_type("cpc.InterpreterRequested.v1", conference_id=cid)

    assert await watcher.until(lambda: bool(requested()), 30), "no interpreter was requested"
    interpreter = requested()[0].data
    assert interpreter["language"] == "pl"
    assert {k: interpreter[k] for k in ("starts_at", "ends_at", "office_id", "room_id", "attendance_mode", "version")} \
        == {k: conference[k] for k in ("starts_at", "ends_at", "office_id", "room_id", "attendance_mode", "version")}
    assert set(interpreter) <= {"conference_id", "case_id", "language", "starts_at", "ends_at", "attendance_mode",
                                "office_id", "room_id", "version"}, "identifiers, times and the language only"
    assert await watcher.until(lambda: len(mails_for(running_services, cid)) >= 2, 60)
    parent = next(m for m in mails_for(running_services, cid) if m["To"].startswith("parent1."))
    body = next(part for part in parent.walk() if part.get_content_type() == "text/plain"
                ).get_payload(decode=True).decode()
    assert "Zarezerwowaliśmy dla Ciebie tłumacza" in body, "in Polish, the family's language"


async def test_a_family_who_needs_no_interpreter_gets_none_requested(running_services, watcher):
    _, conference = await schedule(watcher, running_services)
    assert not watcher.of_type("cpc.InterpreterRequested.v1", conference_id=conference["conference_id"])
