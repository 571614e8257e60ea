"""The simulated families: some parents follow the link in their invitation, read from the Maildir as a real
parent would read their mail, and write their views on the form over HTTP before the day; a few come back to
change them, and a few try only on the day, when the form has closed.

Their own random numbers (from the seed): the rest of the workload is the same with or without them."""

from __future__ import annotations

import html
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from cpc_stack.mail import Mailbox, family_link
from cpc_stack.observe import Watcher

WRITE = 0.3  # each parent who writes their views (an assumption: with two parents, about half of families)
COME_BACK = 0.15  # of those, who come back to change what they wrote
TOO_LATE = 0.05  # of those, who try only on the day, when the form has closed
THOUGHTS = {
    "going_well": ["We get the children to school every day.", "Their gran helps us a lot.",
                   "We have stopped arguing in front of the children."],
    "worries": ["Money is very tight this month.", "I worry the children will be taken away.",
                "The flat is damp and the landlord does not answer."],
    "would_help": ["Help with the rent.", "A parenting course near us.", "Someone to talk to."],
    "meeting_should_know": ["We love our children and want to work with you.", "Please listen to us."],
}


@dataclass
class Plan:
    conference_id: str
    participant_id: str
    email: str
    at: datetime
    again: datetime | None = None
    wrote: dict[str, str] | None = None


class Families:
    def __init__(self, seed: int, maildir: Path, zone: ZoneInfo) -> None:
        self.rng = random.Random(f"family-views-{seed}")
        self.mailbox, self.zone = Mailbox(maildir), zone
        self.emails: dict[str, str] = {}  # parents' participant id -> e-mail address, from the requests published
        self.plans: list[Plan] = []
        self.planned: set[tuple[str, str]] = set()
        self.read = 0
        self.outcomes: Counter[str] = Counter()  # saved, changed, or the status they were refused with

    def requested(self, request: dict[str, Any]) -> None:
        for person in request.get("participants", []):
            if person["role"] == "parent" and person.get("email"):
                self.emails[person["participant_id"]] = person["email"]

    def invited(self, watcher: Watcher, now: datetime, starts: dict[str, datetime]) -> None:
        """Parents just invited decide whether (and when) they will write."""
        new = watcher.seen[self.read:]
        self.read += len(new)
        for seen in new:
            if seen.type != "cpc.NotificationSent.v1" or seen.data.get("purpose") != "invitation":
                continue
            cid, pid = seen.data["conference_id"], seen.data["recipient_id"]
            if pid not in self.emails or (cid, pid) in self.planned or cid not in starts:
                continue
            self.planned.add((cid, pid))
            if self.rng.random() >= WRITE:
                continue
            day = datetime.combine(starts[cid].astimezone(self.zone).date(), time(0), tzinfo=self.zone)
            if self.rng.random() < TOO_LATE:
                at, again = day + timedelta(hours=7), None
            else:
                at = now + (day - now) * self.rng.uniform(0.05, 0.8)
                again = at + (day - at) * self.rng.uniform(0.2, 0.9) if self.rng.random() < COME_BACK else None
            self.plans.append(Plan(cid, pid, self.emails[pid], at, again))

    async def write_due(self, now: datetime, http: httpx.AsyncClient) -> None:
        for plan in [p for p in self.plans if p.at <= now]:
            await self._write(plan, http)
            if plan.again is not None:
                plan.at, plan.again = plan.again, None
            else:
                self.plans.remove(plan)

    async def _write(self, plan: Plan, http: httpx.AsyncClient) -> None:
        link = self._link(plan)
        if link is None:
            self.outcomes["found no invitation"] += 1
            return
        opened = await http.get(link)
        if opened.status_code != 200:
            self.outcomes[f"refused {opened.status_code}"] += 1
            return
        if plan.wrote and all(html.escape(text) in opened.text for text in plan.wrote.values()):
            self.outcomes["found their words again"] += 1
        answers = {question: self.rng.choice(options) for question, options in THOUGHTS.items()}
        saved = await http.post(link, data=answers)
        if saved.status_code != 303:
            self.outcomes[f"refused {saved.status_code}"] += 1
            return
        self.outcomes["changed" if plan.wrote else "saved"] += 1
        plan.wrote = answers

    def _link(self, plan: Plan) -> str | None:
        """The link in the newest invitation or update this parent received for the conference (any of them opens
        the form as the conference stands now)."""
        mails = self.mailbox.find(plan.conference_id, ("invitation", "update"), to=plan.email)
        return family_link(mails[-1]) if mails else None
