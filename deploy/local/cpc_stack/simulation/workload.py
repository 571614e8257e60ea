"""A council's case-management system, simulated: who is referred, who attends, what conferences decide,
and how agencies answer report requests. Seeded, so a run can be repeated.

Rates as the team found them for a county like Gloucestershire: it holds about 800 initial and 2,000 review
conferences a year (about 3 and 8 a working day)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.profile import Profile

INITIAL_PER_WORKING_DAY = 800 / 252
REVIEWS_PER_WORKING_DAY = 2000 / 252 * 0.6  # the rest are requested by scheduling itself, after outcomes
AGENCIES = ["health", "police", "education", "housing", "probation"]
LANGUAGES = ["en"] * 17 + ["pl", "ro", "ur"]
REPORT_HABITS = {  # on time, late, never
    "childrens_social_care": (0.92, 0.07, 0.01),
    "health": (0.75, 0.17, 0.08),
    "police": (0.70, 0.20, 0.10),
    "education": (0.78, 0.15, 0.07),
    "housing": (0.60, 0.25, 0.15),
    "probation": (0.65, 0.20, 0.15),
    "other": (0.60, 0.20, 0.20),
}


@dataclass
class Workload:
    profile: Profile
    seed: int
    calendar: WorkingDayCalendar

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.case_number = 0

    def poisson(self, mean: float) -> int:
        # Knuth's method: fine for the small means of a day.
        limit, k, p = pow(2.718281828, -mean), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def family(self) -> dict[str, Any]:
        office = self.rng.choice(self.profile.offices)
        district = self.rng.choice(office.postcode_districts or ["ZZ1"])
        lat = office.location.lat + self.rng.uniform(-0.08, 0.08)
        lon = office.location.lon + self.rng.uniform(-0.12, 0.12)
        family: dict[str, Any] = {
            "postcode": f"{district} {self.rng.randint(1, 9)}{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                        f"{self.rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
            "language": self.rng.choice(LANGUAGES),
            "accessibility_needs": ["step_free_access"] if self.rng.random() < 0.1 else [],
        }
        family["interpreter_needed"] = family["language"] != "en" and self.rng.random() < 0.8
        if self.rng.random() < 0.9:  # sometimes only the postcode is known
            family["location"] = {"lat": round(lat, 5), "lon": round(lon, 5)}
        return family

    def participants(self, case_id: str, family: dict[str, Any]) -> list[dict[str, Any]]:
        n = case_id.split("-")[-1]
        people = []
        for i in range(1, self.rng.choice([1, 2, 2, 2]) + 1):
            people.append({"participant_id": f"{case_id}-P{i}", "role": "parent", "name": f"Parent {i} of {n}",
                           "email": f"parent{i}.{n}@family.example", "phone": f"07700 9{self.rng.randint(10000, 99999)}",
                           "preferred_channel": self.rng.choice(["email", "email", "sms"])})
        if self.rng.random() < 0.15:
            people.append({"participant_id": f"{case_id}-ADV", "role": "advocate", "name": "Advocate",
                           "email": f"advocate.{n}@advocacy.example"})
        if family.get("interpreter_needed"):
            people.append({"participant_id": f"{case_id}-INT", "role": "interpreter", "name": "Interpreter",
                           "email": f"interpreter.{n}@language.example"})
        people += [
            {"participant_id": f"{case_id}-SW", "role": "social_worker", "agency": "childrens_social_care",
             "name": "Social Worker", "email": f"sw.{n}@council.example"},
            {"participant_id": f"{case_id}-TM", "role": "team_manager", "agency": "childrens_social_care",
             "name": "Team Manager", "email": f"tm.{n}@council.example"},
        ]
        agencies = self.rng.sample(AGENCIES, self.rng.choice([2, 3, 3, 4]))
        people += [{"participant_id": f"{case_id}-{a[:3].upper()}", "role": "professional", "agency": a,
                    "name": f"{a.title()} Professional", "email": f"{a}.{n}@partner.example"} for a in agencies]
        return people

    def new_case(self) -> tuple[str, dict[str, Any]]:
        self.case_number += 1
        return f"SIM-{self.seed}-{self.case_number:05d}", self.family()

    def initial_requests(self, day: date, now: datetime, factor: float = 1.0) -> list[dict[str, Any]]:
        """The day's referrals that need an initial conference; `factor` times the usual rate (a surge)."""
        requests = []
        for _ in range(self.poisson(INITIAL_PER_WORKING_DAY * factor)):
            case_id, family = self.new_case()
            strategy = day - timedelta(days=self.rng.choice([0, 1, 1, 2, 3]))
            requests.append(self._request(case_id, family, "initial", strategy, now))
        return requests

    def legacy_reviews(self, day: date, now: datetime) -> list[dict[str, Any]]:
        """Reviews of plans that began before the system, due in the coming weeks."""
        requests = []
        for _ in range(self.poisson(REVIEWS_PER_WORKING_DAY)):
            case_id, family = self.new_case()
            previous = "review" if self.rng.random() < 0.7 else "initial"
            months = 6 if previous == "review" else 3
            due = self.calendar.add_working_days(day, self.rng.randint(12, 25))
            held = due - timedelta(days=round(months * 30.44))
            requests.append(self._request(case_id, family, "review", held, now, previous_conference_type=previous,
                                          previous_conference_id=f"LEGACY-{case_id}"))
        return requests

    def _request(self, case_id: str, family: dict[str, Any], kind: str, basis: date, now: datetime,
                 **extra: Any) -> dict[str, Any]:
        return {
            "request_id": f"REQ-{case_id}-{kind}", "case_id": case_id, "conference_type": kind,
            "basis_date": basis.isoformat(), "expected_birth_date": None, "previous_conference_id": None,
            "previous_conference_type": None, "children": [{"child_id": f"CH-{case_id}-{i}"}
                                                            for i in range(self.rng.choice([1, 1, 2, 3]))],
            "family": family, "participants": self.participants(case_id, family),
            "requested_at": now.astimezone(UTC).isoformat(), **extra,
        }

    def outcome(self, conference: dict[str, Any], waived: bool) -> dict[str, Any]:
        first = conference["conference_type"] != "review"
        roll = self.rng.random()
        outcome = ("plan_started" if roll < 0.85 else "no_plan") if first else \
            ("plan_continued" if roll < 0.75 else "plan_ended")
        return {"conference_id": conference["conference_id"], "case_id": conference["case_id"],
                "held_on": conference["starts_at"][:10], "outcome": outcome,
                "quorate": waived or self.rng.random() < 0.96}

    def report_submission_time(self, agency: str, due_at: datetime, requested_at: datetime) -> datetime | None:
        on_time, late, _ = REPORT_HABITS.get(agency, REPORT_HABITS["other"])
        roll = self.rng.random()
        if roll < on_time:
            return max(requested_at + timedelta(hours=2), due_at - timedelta(hours=self.rng.uniform(1, 72)))
        if roll < on_time + late:
            return due_at + timedelta(hours=self.rng.uniform(2, 40))
        return None

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def moved_family(self) -> dict[str, Any]:
        return self.family()
