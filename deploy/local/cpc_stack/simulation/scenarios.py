"""Pressure a council recognises, as data: chairs away, a referral surge, an office closed, extra closure days,
a switch to all-virtual conferences. A scenario is named (`SCENARIOS`) or read from a YAML file
(`profiles/scenarios/*.yaml`), with dates relative to the run's first day (`+5`: five days after it) or absolute.

It applies in three places, each through what the system already has:

- the workload: `surge` multiplies the referral rate on its days (`referral_factor`);
- the council profile the services read (`apply_to_profile`): an office's own `closure_days`, the council's
  `closure_days`, and a policy from a date with every conference virtual (as Essex in March 2020);
- the scheduling API: each chair's absence is posted to `POST /api/chairs/{id}/absences` (leave when the run
  starts, as the team enters it in advance; sickness on its first morning).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from cpc_shared.profile import Office, Profile

from cpc_stack.paths import REPO

SCENARIO_DIR = REPO / "profiles" / "scenarios"


@dataclass(frozen=True)
class ChairAway:
    chair_id: str
    first_day: date
    last_day: date
    kind: Literal["leave", "sickness"] = "sickness"

    @property
    def announced(self) -> date | None:
        """The day the team enters it: sickness on its first day; leave before the run (None)."""
        return self.first_day if self.kind == "sickness" else None


@dataclass(frozen=True)
class Surge:
    factor: float
    first_day: date
    last_day: date


@dataclass(frozen=True)
class OfficeClosed:
    office_id: str
    first_day: date
    last_day: date


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    chairs_away: tuple[ChairAway, ...] = ()
    surges: tuple[Surge, ...] = ()
    offices_closed: tuple[OfficeClosed, ...] = ()
    closure_days: tuple[date, ...] = ()
    all_virtual_from: date | None = None
    start: date | None = None  # the run's first day, unless one is given

    def referral_factor(self, day: date) -> float:
        """How many times the usual rate of referrals arrive on `day`."""
        factor = 1.0
        for surge in self.surges:
            if surge.first_day <= day <= surge.last_day:
                factor *= surge.factor
        return factor

    def absences_announced_on(self, day: date | None) -> list[ChairAway]:
        return [away for away in self.chairs_away if away.announced == day]

    def apply_to_profile(self, profile: Profile) -> Profile:
        """The council's profile under this scenario (what the services and the benchmark read)."""
        known = {office.id for office in profile.offices}
        chairs = {chair.id for chair in profile.chairs}
        for closed in self.offices_closed:
            if closed.office_id not in known:
                raise ValueError(f"scenario {self.name}: no office {closed.office_id} in {profile.council}")
        for away in self.chairs_away:
            if away.chair_id not in chairs:
                raise ValueError(f"scenario {self.name}: no chair {away.chair_id} in {profile.council}")

        def office(o: Office) -> Office:
            days = {d for c in self.offices_closed if c.office_id == o.id for d in _days(c.first_day, c.last_day)}
            return o.model_copy(update={"closure_days": sorted({*o.closure_days, *days})}) if days else o

        changed = profile.model_copy(update={"offices": [office(o) for o in profile.offices]})
        changed = changed.with_closure_days(list(self.closure_days)) if self.closure_days else changed
        if self.all_virtual_from is not None:
            base = changed.policy_on(self.all_virtual_from)
            virtual = base.model_copy(update={"effective_from": self.all_virtual_from, "attendance": {
                kind: "virtual" for kind in ("initial", "review", "transfer_in", "pre_birth")}})
            before = [p for p in changed.policies if p.effective_from < self.all_virtual_from]
            changed = changed.model_copy(update={"policies": [*before, virtual]})
        return Profile.model_validate(changed.model_dump())  # validated again, as if loaded from a file


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _day(value: Any, start: date) -> date:
    """`+N` (N days after the run's first day), or an ISO date."""
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.startswith("+"):
        return start + timedelta(days=int(text[1:]))
    return date.fromisoformat(text)


def from_mapping(raw: dict[str, Any], start: date, name: str | None = None) -> Scenario:
    allowed = {"name", "description", "start", "chairs_away", "surge", "offices_closed", "closure_days", "all_virtual_from"}
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"scenario: unknown fields {', '.join(sorted(unknown))} (allowed: {', '.join(sorted(allowed))})")
    return Scenario(
        name=name or str(raw.get("name", "scenario")),
        description=str(raw.get("description", "")),
        chairs_away=tuple(ChairAway(a["chair"], _day(a["from"], start), _day(a["to"], start), a.get("kind", "sickness"))
                          for a in raw.get("chairs_away", [])),
        surges=tuple(Surge(float(s["factor"]), _day(s["from"], start), _day(s["to"], start))
                     for s in raw.get("surge", [])),
        offices_closed=tuple(OfficeClosed(o["office"], _day(o["from"], start), _day(o["to"], start))
                             for o in raw.get("offices_closed", [])),
        closure_days=tuple(_day(d, start) for d in raw.get("closure_days", [])),
        all_virtual_from=_day(raw["all_virtual_from"], start) if raw.get("all_virtual_from") is not None else None,
        start=start,
    )


# Named scenarios, relative to the run's first day (Gloucestershire's chairs and offices; a file names its own).
SCENARIOS: dict[str, dict[str, Any]] = {
    "none": {"description": "the council as it is"},
    "chairs-off-sick": {
        "description": "four of eleven chairs off sick for three weeks from day 3, one more on leave weeks 2-3",
        "chairs_away": [{"chair": f"CHAIR-GL-0{i}", "from": "+2", "to": "+22", "kind": "sickness"} for i in (1, 2, 3, 4)]
                       + [{"chair": "CHAIR-GL-05", "from": "+7", "to": "+20", "kind": "leave"}]},
    "surge": {"description": "referrals at twice the usual rate for a month",
              "surge": [{"factor": 2.0, "from": "+0", "to": "+30"}]},
    "office-closed": {"description": "from 6 June 2022 (every conference in person): Gloucester's office closed for "
                                     "three weeks (its families go to the next nearest)",
                      "start": "2022-06-06", "offices_closed": [{"office": "GL-GLOUCESTER", "from": "+0", "to": "+21"}]},
    "christmas": {"description": "from 5 December 2022: the bank holidays and the council closed between Christmas "
                               "and New Year (28-30 December)",
                  "start": "2022-12-05", "closure_days": ["2022-12-28", "2022-12-29", "2022-12-30"]},
    "easter": {"description": "from 4 April 2022: Good Friday and Easter Monday, and the council closed on the "
                            "Tuesday after", "start": "2022-04-04", "closure_days": ["2022-04-19"]},
    "all-virtual": {"description": "every conference virtual from day 0 (as Essex from 25 March 2020)",
                    "all_virtual_from": "+0"},
    "shortfall": {
        "description": "from 6 June 2022: four chairs off sick for six weeks, referrals at 1.75 times the usual rate "
                       "for a month, Gloucester's office closed for two weeks",
        "start": "2022-06-06",
        "surge": [{"factor": 1.75, "from": "+0", "to": "+30"}],
        "chairs_away": [{"chair": f"CHAIR-GL-0{i}", "from": "+1", "to": "+45", "kind": "sickness"} for i in (1, 2, 3, 4)],
        "offices_closed": [{"office": "GL-GLOUCESTER", "from": "+3", "to": "+17"}]},
    "long-sickness": {
        "description": "from 6 June 2022: five chairs off sick for six weeks, referrals at 1.5 times the usual rate "
                       "for a month, Gloucester's office closed for two weeks",
        "start": "2022-06-06",
        "surge": [{"factor": 1.5, "from": "+0", "to": "+30"}],
        "chairs_away": [{"chair": f"CHAIR-GL-0{i}", "from": "+1", "to": "+45", "kind": "sickness"}
                        for i in (1, 2, 3, 4, 5)],
        "offices_closed": [{"office": "GL-GLOUCESTER", "from": "+3", "to": "+17"}]},
    "overload": {
        "description": "beyond what the chairs can hold, from 6 June 2022: five chairs off sick for six weeks and "
                       "referrals at 1.75 times the usual rate for a month, Gloucester's office closed for two weeks",
        "start": "2022-06-06",
        "surge": [{"factor": 1.75, "from": "+0", "to": "+30"}],
        "chairs_away": [{"chair": f"CHAIR-GL-0{i}", "from": "+1", "to": "+45", "kind": "sickness"}
                        for i in (1, 2, 3, 4, 5)],
        "offices_closed": [{"office": "GL-GLOUCESTER", "from": "+3", "to": "+17"}]},
}


def load_scenario(name_or_file: str | None, start: date | None, default_start: date) -> Scenario:
    """A named scenario, a file in `profiles/scenarios/` by its name, or a YAML file by its path. The run starts on
    `start` if given, else on the scenario's own first day, else on `default_start`; `+N` dates count from it."""
    if not name_or_file:
        return Scenario(name="none", start=start or default_start)
    if name_or_file in SCENARIOS:
        raw = SCENARIOS[name_or_file]
        return from_mapping(raw, _first_day(raw, start, default_start), name_or_file)
    path = Path(name_or_file)
    if not path.exists() and (SCENARIO_DIR / f"{name_or_file}.yaml").exists():
        path = SCENARIO_DIR / f"{name_or_file}.yaml"
    if not path.exists():
        raise ValueError(f"no scenario {name_or_file!r}: one of {', '.join(SCENARIOS)}, "
                         f"a file in {SCENARIO_DIR.relative_to(REPO)}, or a path")
    raw = yaml.safe_load(path.read_text()) or {}
    return from_mapping(raw, _first_day(raw, start, default_start), raw.get("name") or path.stem)


def _first_day(raw: dict[str, Any], start: date | None, default_start: date) -> date:
    return start or (_day(raw["start"], default_start) if raw.get("start") else default_start)


def write_profile(profile: Profile, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(profile.model_dump(mode="json"), sort_keys=False))
    return path
