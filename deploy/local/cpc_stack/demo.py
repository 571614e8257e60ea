"""The demo: a handful of initial conference requests, followed through all four services."""

from __future__ import annotations

import asyncio
import mailbox
import random
from collections import Counter

from cpc_shared.contracts import Topics

from cpc_stack import casemgmt, infra
from cpc_stack.observe import Watcher

OUTBOUND = [Topics.CONFERENCES, Topics.ROOMS, Topics.REPORTS, Topics.NOTIFICATIONS]


async def _run(endpoints: infra.Endpoints, count: int) -> int:
    rng = random.Random()
    requests = [casemgmt.conference_requested(rng.randrange(10_000, 99_999)) for _ in range(count)]
    async with Watcher(endpoints.kafka, OUTBOUND) as watcher:
        await casemgmt.publish(endpoints.kafka, [("casemgmt.ConferenceRequested.v1", r) for r in requests])
        print(f"\nSent {count} initial conference requests to {Topics.CASEMGMT}. Following them through...\n")

        def scheduled(request: dict) -> dict | None:
            found = watcher.of_type("cpc.ConferenceScheduled.v1", request_id=request["request_id"])
            return found[0].data if found else None

        def invited(conference_id: str) -> int:
            return len(watcher.of_type("cpc.NotificationSent.v1", conference_id=conference_id, purpose="invitation"))

        def done() -> bool:
            return all((s := scheduled(r)) and invited(s["conference_id"]) >= len(r["participants"]) for r in requests)

        finished = await watcher.until(done, timeout=90)
        for request in requests:
            conference = scheduled(request)
            if conference is None:
                print(f"  {request['request_id']}  not scheduled yet")
                continue
            cid = conference["conference_id"]
            reports = watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)
            print(
                f"  {cid}  {conference['conference_type']:<8} {conference['starts_at'][:16].replace('T', ' ')}"
                f"  deadline {conference['statutory_deadline']}  {'on time' if conference['within_timescale'] else 'LATE'}"
                f"  {conference['attendance_mode']:<9} {conference['office_id'] or 'online'} / {conference['room_id'] or '-'}"
                f"  chair {conference['chair_id']}  reports asked {len(reports)}  invitations sent {invited(cid)}"
            )
        ours = {c["conference_id"] for c in map(scheduled, requests) if c}
        counts = Counter(seen.type for seen in watcher.seen if seen.data.get("conference_id") in ours)
        print("\nEvents about these conferences:", ", ".join(f"{t.split('.')[1]} {n}" for t, n in sorted(counts.items())))
    mails = len(mailbox.Maildir(str(endpoints.maildir), create=False)) if endpoints.maildir.exists() else 0
    print(f"Mail server holds {mails} messages in {endpoints.maildir} (all runs).")
    print("Service logs: .stack/logs/  ·  stop everything: ./dev down\n")
    return 0 if finished else 1


def run_demo(endpoints: infra.Endpoints, count: int) -> None:
    code = asyncio.run(_run(endpoints, count))
    if code:
        raise SystemExit("Not every request made it through in time; see .stack/logs/.")
