"""Runs a simulated period: the services on a shared simulated clock, the workload published as the
case-management system and the agencies would, hour by hour, then the report."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cpc_shared.clock import looks_since
from cpc_shared.contracts import Topics
from cpc_shared.http import issue_token
from cpc_shared.profile import load_profile

from cpc_stack import casemgmt, infra, processes, services, settling
from cpc_stack.observe import LagProbe, Watcher, skip_to_end
from cpc_stack.paths import REPO, RUN
from cpc_stack.simulation.families import Families
from cpc_stack.simulation.scenarios import Scenario, load_scenario, write_profile
from cpc_stack.simulation.workload import Workload

DAY_START, DAY_END = time(8, 0), time(18, 0)
# The clock goes on to the next hour once nothing new has come on the topics for QUIET seconds, every consumer
# group has handled all it was given, every timer (polling every TIMER_POLL) has looked at the store since then
# and published what fell due, and still nothing new has come. If the services are still behind after PATIENCE
# seconds (one down), it goes on anyway, and the report says so.
TIMER_POLL, QUIET, STEP, PATIENCE = 0.02, 0.03, 0.005, 120.0
REPORTS_API = services.api("reports")
SCHEDULING_API = services.api("scheduling")
PROFILES = {"gloucestershire": ("profiles/gloucestershire-2022.yaml", date(2022, 5, 3)),
            "essex": ("profiles/essex-2020.yaml", date(2020, 3, 23))}


@dataclass
class Run:
    profile_name: str
    profile_path: Path
    start: date
    days: int
    seed: int
    speed: float  # simulated hours per real second
    database_prefix: str
    watcher: Watcher | None = None
    scenario: Scenario = Scenario(name="none")


class Simulation:
    def __init__(self, run: Run, endpoints: infra.Endpoints, progress: Callable[[int, int, str], None]) -> None:
        self.run, self.endpoints, self.progress = run, endpoints, progress
        self.profile = load_profile(run.profile_path)
        self.zone = ZoneInfo(self.profile.timezone)
        self.calendar = self.profile.calendar()
        self.workload = Workload(self.profile, run.seed, self.calendar)
        self.families = Families(run.seed, endpoints.maildir, self.zone)
        self.clock_file = RUN / "simulation-clock-offset"
        self.outcomes_sent: set[str] = set()
        self.cancelled: set[str] = set()
        self.moved: set[str] = set()
        self.submissions: dict[str, tuple[datetime | None, dict[str, Any]]] = {}
        self.submitted: set[str] = set()
        # What the topics carried is read once, as it arrives (not again every simulated hour).
        self.latest: dict[str, dict[str, Any]] = {}
        self.read_for_conferences = 0
        self.read_for_reports = 0
        self.published = 0
        self.skipped = 0
        self.refused: Counter[str] = Counter()
        self.settled = False
        self.seconds: dict[str, float] = {}  # how long the simulated days, and the catching up after, took
        self.paced = 0.0  # of which, seconds spent waiting for the simulated clock (`speed`)
        self.kept_pace = 0.0  # and seconds spent waiting for the services to handle each hour's work
        self.cpu: dict[str, float] = {}  # CPU seconds each process of the stack used over those seconds
        self.went_on_behind = 0  # hours the clock went on with the services still behind (after PATIENCE)
        self.probe: LagProbe | None = None
        self.offset = 0.0

    def set_clock(self, now: datetime) -> None:
        self.offset = (now - datetime.now(UTC)).total_seconds()
        self.clock_file.write_text(repr(self.offset))

    def service_env(self) -> dict[str, str]:
        return {"CPC_DATABASE_PREFIX": self.run.database_prefix, "CPC_PROFILE_PATH": str(self.run.profile_path),
                # Timers look at the clock often (cheap: they read the store only when something falls due),
                # so an alert raised on the simulated clock is at most minutes late, not hours.
                "CPC_CLOCK_OFFSET_FILE": str(self.clock_file), "CPC_TIMER_POLL_SECONDS": str(TIMER_POLL)}

    async def execute(self) -> Watcher:
        first = datetime.combine(self.run.start, DAY_START, tzinfo=self.zone)
        self.set_clock(first)
        services.stop()
        for said in RUN.glob(f"{self.clock_file.name}.looked.*"):  # an earlier run's timers
            said.unlink()
        self.skipped = await skip_to_end(self.endpoints.kafka)
        # Watch before the services start, so the topics' record of the run is whole from its first event.
        async with Watcher(self.endpoints.kafka, [name for t in Topics.ALL for name in (t, Topics.dead_letter(t))]
                           ) as watcher:
            await asyncio.to_thread(services.start, self.endpoints, extra_env=self.service_env())
            self.run.watcher = watcher
            await self.announce_absences(None)  # leave, entered before the period
            self.producer = AIOKafkaProducer(bootstrap_servers=self.endpoints.kafka, acks="all",
                                             enable_idempotence=True)
            await self.producer.start()
            async with httpx.AsyncClient(timeout=30) as http, LagProbe(self.endpoints.kafka) as self.probe:
                loop = asyncio.get_running_loop()
                began = loop.time()
                cpu_before = processes.cpu_seconds(processes.running())
                for index in range(self.run.days):
                    day = self.run.start + timedelta(days=index)
                    await self.simulate_day(day, watcher, http)
                    self.progress(index + 1, self.run.days, day.isoformat())
                end = datetime.combine(self.run.start + timedelta(days=self.run.days), DAY_START, tzinfo=self.zone)
                self.set_clock(end)
                days_done = loop.time()
                self.settled = await self.settle(watcher)
                self.seconds = {"simulated_days": days_done - began, "catching_up": loop.time() - days_done}
                self.cpu = {name: used - cpu_before[name] for name, used in processes.cpu_seconds(list(cpu_before)).items()}
            await self.producer.stop()
        return watcher

    async def simulate_day(self, day: date, watcher: Watcher, http: httpx.AsyncClient) -> None:
        working = self.calendar.is_working_day(day)
        hours = range(DAY_START.hour, DAY_END.hour + 1) if working else [DAY_START.hour]
        for hour in hours:
            now = datetime.combine(day, time(hour), tzinfo=self.zone)
            self.set_clock(now)
            if hour == DAY_START.hour:
                await self.announce_absences(day)  # sickness, on its first morning
            items: list[tuple[str, dict[str, Any]]] = []
            if working and hour in (9, 11, 14):
                factor = self.run.scenario.referral_factor(day)
                items += [("casemgmt.ConferenceRequested.v1", r) for r in self.workload.initial_requests(day, now, factor)
                          if self.workload.chance(1 / 3) or hour == 9]
            if working and hour == 10:
                items += [("casemgmt.ConferenceRequested.v1", r) for r in self.workload.legacy_reviews(day, now)]
            items += self.outcomes_and_changes(watcher, now)
            if items:
                await casemgmt.publish(self.endpoints.kafka, items, self.producer)
                self.published += len(items)
                for kind, data in items:
                    if kind == "casemgmt.ConferenceRequested.v1":
                        self.families.requested(data)
            await self.submit_reports(watcher, now, http)
            self.families.invited(watcher, now, {cid: datetime.fromisoformat(c["starts_at"])
                                                 for cid, c in self.latest.items() if cid not in self.cancelled})
            await self.families.write_due(now, http)
            await self.keep_pace(watcher)
            await asyncio.sleep(1 / self.run.speed)
            self.paced += 1 / self.run.speed

    async def keep_pace(self, watcher: Watcher) -> None:
        """Wait until the services have handled what this simulated hour brought, so that a run's figures are those
        of services that keep up, on a fast machine or a slow one (else the clock would run ahead of them at full
        speed, and conferences fall due before they were scheduled)."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        while loop.time() - began <= PATIENCE:
            seen = await self._quiet(watcher, began)
            caught_up_at = datetime.now(UTC).timestamp()
            if not await self._caught_up() or len(watcher.seen) != seen:
                continue
            if not await self._timers_looked_since(caught_up_at, began):
                break  # out of patience
            if len(watcher.seen) == seen and await self._caught_up():
                self.kept_pace += loop.time() - began
                return
        self.went_on_behind += 1
        self.kept_pace += loop.time() - began

    @staticmethod
    async def _quiet(watcher: Watcher, began: float) -> int:
        """Return once nothing new has come on the topics for QUIET seconds (or PATIENCE has run out since `began`):
        how many records have come so far."""
        loop = asyncio.get_running_loop()
        seen, since = len(watcher.seen), loop.time()
        while loop.time() - since < QUIET and loop.time() - began <= PATIENCE:
            await asyncio.sleep(STEP)
            if len(watcher.seen) != seen:
                seen, since = len(watcher.seen), loop.time()
        return seen

    async def _caught_up(self) -> bool:
        """Every consumer group has committed all its topics hold."""
        assert self.probe is not None
        try:
            return sum((await self.probe.lag()).values()) == 0
        except KafkaError:  # a slow answer from the broker: ask again
            return False

    async def _timers_looked_since(self, since: float, began: float) -> bool:
        """Wait until every timer has looked at the store (at this hour) in a look begun at `since` or later, and
        published what fell due; False if PATIENCE ran out first."""
        loop = asyncio.get_running_loop()
        while looks_since(self.clock_file, self.offset, since) is False:
            if loop.time() - began > PATIENCE:
                return False
            await asyncio.sleep(STEP)
        return True

    async def announce_absences(self, day: date | None) -> None:
        """The scenario's chairs away, entered by the team through the scheduling API."""
        absences = self.run.scenario.absences_announced_on(day)
        if not absences:
            return
        token = issue_token(infra.staff_token_secret(), subject="manager-sim", role="manager")
        async with httpx.AsyncClient(timeout=60) as http:
            for away in absences:
                answer = await http.post(f"{SCHEDULING_API}/chairs/{away.chair_id}/absences",
                                         headers={"Authorization": f"Bearer {token}"},
                                         json={"first_day": away.first_day.isoformat(),
                                               "last_day": away.last_day.isoformat(), "kind": away.kind})
                answer.raise_for_status()

    def latest_conferences(self, watcher: Watcher) -> dict[str, dict[str, Any]]:
        new = watcher.seen[self.read_for_conferences:]
        self.read_for_conferences += len(new)
        for seen in new:
            if seen.type in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1"):
                known = self.latest.get(seen.data["conference_id"])
                if known is None or seen.data["version"] >= known["version"]:
                    self.latest[seen.data["conference_id"]] = seen.data
            elif seen.type == "cpc.ConferenceCancelled.v1":
                self.cancelled.add(seen.data["conference_id"])
        return self.latest

    def outcomes_and_changes(self, watcher: Watcher, now: datetime) -> list[tuple[str, dict[str, Any]]]:
        items: list[tuple[str, dict[str, Any]]] = []
        for cid, conference in self.latest_conferences(watcher).items():
            if cid in self.cancelled or cid in self.outcomes_sent:
                continue
            starts = datetime.fromisoformat(conference["starts_at"])
            if datetime.fromisoformat(conference["ends_at"]) <= now:
                waived = self.profile.policy_on(starts.date()).quoracy_waived
                items.append(("casemgmt.ConferenceOutcomeRecorded.v1", self.workload.outcome(conference, waived)))
                self.outcomes_sent.add(cid)
            elif cid not in self.moved and starts - now > timedelta(days=3) and now.hour == 12:
                self.moved.add(cid)  # decided once per conference
                if self.workload.chance(0.02):
                    items.append(("casemgmt.ConferenceCancellationRequested.v1", {
                        "case_id": conference["case_id"], "conference_id": cid, "reason": "Simulated: no longer needed"}))
                elif self.workload.chance(0.02):
                    items.append(("casemgmt.CaseDetailsChanged.v1", {
                        "case_id": conference["case_id"], "family": self.workload.moved_family()}))
        return items

    async def submit_reports(self, watcher: Watcher, now: datetime, http: httpx.AsyncClient) -> None:
        new = watcher.seen[self.read_for_reports:]
        self.read_for_reports += len(new)
        for seen in new:
            if seen.type == "cpc.ReportRequested.v1" and seen.data["report_id"] not in self.submissions:
                due = datetime.fromisoformat(seen.data["due_at"])
                self.submissions[seen.data["report_id"]] = (
                    self.workload.report_submission_time(seen.data["agency"], due, now), seen.data)
            elif seen.type == "cpc.ReportWithdrawn.v1":
                self.submitted.add(seen.data["report_id"])
        for report_id, (at, report) in list(self.submissions.items()):
            if at is None or at > now or report_id in self.submitted:
                continue
            self.submitted.add(report_id)
            token = issue_token(infra.staff_token_secret(), subject=f"{report['agency']}-sim", role="agency",
                                agency=report["agency"])
            answer = await http.post(f"{REPORTS_API}/reports/{report_id}/submissions",
                                     headers={"Authorization": f"Bearer {token}"},
                                     files={"file": ("report.pdf", b"%PDF-1.7\n% simulated report\n", "application/pdf")})
            if answer.is_error:  # counted and reported: an agency's report the service would not take
                json_body = answer.headers.get("content-type", "").startswith("application/json")
                self.refused[f"{answer.status_code} {answer.json().get('detail', '') if json_body else ''}"[:120]] += 1

    async def settle(self, watcher: Watcher, quiet_for: float = 3.0, limit: float = 600.0) -> bool:
        """Wait until the services have finished what the period started: every consumer group caught up,
        every outbox published, and nothing new on the topics for `quiet_for` seconds. False if they had
        not after `limit` seconds (the report then says so)."""
        return await settling.settle(self.endpoints.kafka, watcher, quiet_for, limit)

def default_run(profile: str, days: int, seed: int, speed: float, start: date | None = None,
                scenario: str | None = None) -> Run:
    """A run of `profile`; under a scenario, the services read the profile as the scenario changes it (written
    to `.stack/scenarios/`), and the run starts on the scenario's first day unless `start` is given."""
    path, default_start = PROFILES[profile]
    chosen = load_scenario(scenario, start, default_start)
    profile_path = REPO / path
    if chosen.name != "none":
        changed = chosen.apply_to_profile(load_profile(profile_path))
        profile_path = write_profile(changed, RUN / "scenarios" / f"{profile}-{chosen.name}.yaml")
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    return Run(profile_name=profile, profile_path=profile_path, start=chosen.start or default_start, days=days,
               seed=seed, speed=speed, database_prefix=f"cpc_sim_{stamp}", scenario=chosen)
