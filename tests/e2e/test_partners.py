"""Partners on the running system: what NHS CP-IS and each agency read on their public topics, once, with no
personal data; and a partner's own client (kcat, not Python) reading it as the catalogue says."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
from datetime import date

import pytest
from cpc_shared.contracts.partner import CPIS_TOPIC, PARTNER_EVENTS, agency_topic
from cpc_stack import casemgmt

from tests.conftest import new_request

pytestmark = pytest.mark.e2e


def personal_request() -> tuple[dict, list[str]]:
    """A request whose every name, e-mail, phone and postcode is recognisable, and those strings."""
    n = random.randrange(100_000, 999_999)
    request = new_request(family={"postcode": "GL20 5AL", "location": {"lat": 51.992, "lon": -2.159}, "language": "pl",
                                  "interpreter_needed": True, "accessibility_needs": ["hearing_loop"]})
    personal = ["GL20 5AL", "GL20"]
    for index, participant in enumerate(request["participants"]):
        participant["name"] = f"Zebedee{n}x{index} Quarrington"
        participant["email"] = f"zq{n}x{index}@mail.example"
        participant["phone"] = f"07700{n}{index}"
        personal += [participant["name"], "Zebedee", "Quarrington", participant["email"], participant["phone"]]
    return request, personal


async def test_partners_read_plans_invitations_reports_and_outcomes_once_without_personal_data(running_services, watcher):
    request, personal = personal_request()
    child_id = request["children"][0]["child_id"]
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceRequested.v1", request)])

    def scheduled() -> list:
        return watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])

    assert await watcher.until(lambda: bool(scheduled()), 60), "not scheduled"
    conference = scheduled()[0].data
    cid = conference["conference_id"]
    agencies = {i["agency"] for i in conference["invitees"] if i.get("agency") and i["role"] not in ("parent", "child")}

    def on_partner_topics(event_type: str, **fields) -> list:
        return [s for s in watcher.of_type(event_type, **fields) if s.topic.startswith("partner.")]

    assert await watcher.until(lambda: len(on_partner_topics("cpc.partner.AgencyInvited.v1", conference_id=cid)) == len(agencies), 30)
    invited = {s.topic: s for s in on_partner_topics("cpc.partner.AgencyInvited.v1", conference_id=cid)}
    assert set(invited) == {agency_topic(a) for a in agencies}
    for topic, seen in invited.items():
        agency = topic.rsplit(".", 1)[1]
        assert seen.key == cid and seen.data["agency"] == agency
        own = sorted(i["participant_id"] for i in conference["invitees"] if i.get("agency") == agency)
        assert seen.data["participant_ids"] == own
        assert (seen.data["starts_at"], seen.data["office_id"]) == (conference["starts_at"], conference["office_id"])

    # every agency asked for a report hears it on its own topic
    requested = watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)
    assert await watcher.until(lambda: len(on_partner_topics("cpc.partner.AgencyReportRequested.v1", conference_id=cid))
                               == len(watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)) > 0, 30)
    for seen in on_partner_topics("cpc.partner.AgencyReportRequested.v1", conference_id=cid):
        assert seen.topic == agency_topic(seen.data["agency"])
    del requested

    # the conference starts a plan: CP-IS hears it for the child, each agency invited hears the outcome code
    outcome = {"conference_id": cid, "case_id": request["case_id"], "held_on": conference["starts_at"][:10],
               "outcome": "plan_started", "quorate": True}
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", outcome)])
    assert await watcher.until(lambda: bool(on_partner_topics("cpc.partner.ChildProtectionPlanStarted.v1", conference_id=cid)), 30)
    assert await watcher.until(lambda: len(on_partner_topics("cpc.partner.ConferenceOutcome.v1", conference_id=cid)) == len(agencies), 30)
    # case management sends the same outcome again (a new event id): partners hear nothing new
    await casemgmt.publish(running_services.kafka, [("casemgmt.ConferenceOutcomeRecorded.v1", outcome)])
    await asyncio.sleep(5)
    [started] = on_partner_topics("cpc.partner.ChildProtectionPlanStarted.v1", conference_id=cid)
    assert started.topic == CPIS_TOPIC and started.key == child_id
    assert started.data == {"subject_id": child_id, "child_id": child_id, "unborn": False, "expected_birth_month": None,
                            "case_id": request["case_id"], "council_id": "E10000013",
                            "council_name": "Gloucestershire County Council", "conference_id": cid,
                            "plan_start_date": date.fromisoformat(outcome["held_on"]).isoformat()}
    assert len(on_partner_topics("cpc.partner.ConferenceOutcome.v1", conference_id=cid)) == len(agencies)

    # nothing on a partner topic carries anything personal from the request, in body, key or headers
    mine = [s for s in watcher.seen if s.topic.startswith("partner.")]
    assert len(mine) >= 2 * len(agencies) + 2
    for seen in mine:
        text = json.dumps([seen.data, seen.key, seen.headers]).lower()
        leaked = [value for value in personal if value.lower() in text]
        assert not leaked, f"{seen.type} on {seen.topic} carries personal data"
        assert seen.type in PARTNER_EVENTS and PARTNER_EVENTS[seen.type].model_validate(seen.data)
        assert seen.headers["ce_specversion"] == "1.0" and seen.headers["ce_source"] == "/cpc/partners"

    # a partner reads its topic with kcat, not Python: CloudEvents headers, the key, a JSON body
    kcat = shutil.which("kcat")
    assert kcat, "kcat is not installed (Debian package kcat; .ci/run installs it)"
    out = subprocess.run([kcat, "-C", "-b", running_services.kafka, "-t", CPIS_TOPIC, "-o", "beginning", "-e", "-J", "-q"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    records = [json.loads(line) for line in out.splitlines() if line.strip()]
    [record] = [r for r in records if r["key"] == child_id and json.loads(r["payload"])["conference_id"] == cid]
    names = record["headers"][0::2]
    headers = dict(zip(names, record["headers"][1::2], strict=True))
    assert {"ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type"} <= set(headers)
    assert headers["ce_type"] == "cpc.partner.ChildProtectionPlanStarted.v1" and headers["ce_specversion"] == "1.0"
    assert headers["content-type"] == "application/json" and headers["ce_id"] == started.headers["ce_id"]
    assert json.loads(record["payload"]) == started.data
