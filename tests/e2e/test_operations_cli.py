"""`./dev conferences`: the operations team reads the state of conferences from the events the services published."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pytest

from tests.conftest import mails_for, schedule

pytestmark = pytest.mark.e2e


async def cli(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cpc_stack.cli", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "COLUMNS": "250"})
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def test_the_conferences_command_lists_and_shows_a_conference_without_personal_data(
        running_services, watcher):
    request, conference = await scheduled_with_invitations(watcher, running_services)
    cid = conference["conference_id"]

    code, listed = await cli("conferences", "--limit", "100000")  # every event on the topics
    assert code == 0, listed
    row = next(line for line in listed.splitlines() if line.strip().startswith(cid))
    assert "initial" in row and "scheduled" in row and conference["room_id"] in row and conference["chair_id"] in row
    sent = int(re.search(r"(\d+) sent", row).group(1))
    assert sent >= len(request["participants"])  # the invitations, and any report requests already out

    code, shown = await cli("conferences", cid)
    assert code == 0, shown
    assert "History:" in shown and "requested (initial)" in shown and "scheduled" in shown
    assert conference["statutory_deadline"] in shown and "on time" in shown
    for participant in request["participants"]:
        assert participant["participant_id"] in shown  # each recipient, by id
        assert participant["name"] not in shown and participant.get("email", "@@") not in shown

    code, refused = await cli("conferences", "--run", "cpc_no_such_run")
    assert code == 1 and "no simulation cpc_no_such_run" in refused
    code, refused = await cli("conferences", "CPC-NO-SUCH-ONE")
    assert code == 1 and "no conference CPC-NO-SUCH-ONE" in refused


async def scheduled_with_invitations(watcher, endpoints):
    request, conference = await schedule(watcher, endpoints)
    participants = len(request["participants"])
    assert await watcher.until(lambda: len(mails_for(endpoints, conference["conference_id"])) == participants, 60)
    assert await watcher.until(lambda: len(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference[
        "conference_id"])) >= participants, 60)
    return request, conference
