"""Scenarios change the workload and the profile the services read, and nothing else (no stack needed)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from cpc_shared.profile import load_profile
from cpc_stack.paths import REPO
from cpc_stack.simulation.scenarios import SCENARIOS, load_scenario
from cpc_stack.simulation.workload import Workload

PROFILE = load_profile(REPO / "profiles/gloucestershire-2022.yaml")
START = date(2022, 5, 3)


@pytest.mark.parametrize("name", [*SCENARIOS, "example-leave-and-closure"])
def test_every_named_scenario_and_the_example_file_fit_the_default_profile(name):
    scenario = load_scenario(name, None, START)
    changed = scenario.apply_to_profile(PROFILE)
    assert changed.council == PROFILE.council


def test_an_office_closed_is_closed_on_its_days_only_and_the_others_stay_open():
    scenario = load_scenario("office-closed", date(2022, 6, 6), START)
    changed = {office.id: office for office in scenario.apply_to_profile(PROFILE).offices}
    assert date(2022, 6, 6) in changed["GL-GLOUCESTER"].closure_days
    assert date(2022, 6, 27) in changed["GL-GLOUCESTER"].closure_days
    assert date(2022, 6, 28) not in changed["GL-GLOUCESTER"].closure_days
    assert not changed["GL-STROUD"].closure_days


def test_closure_days_are_not_working_days_and_all_virtual_switches_every_kind():
    scenario = load_scenario("christmas", None, START)
    assert scenario.start == date(2022, 12, 5)
    calendar = scenario.apply_to_profile(PROFILE).calendar()
    assert not calendar.is_working_day(date(2022, 12, 29))
    assert calendar.is_working_day(date(2022, 12, 23))
    virtual = load_scenario("all-virtual", date(2022, 6, 6), START).apply_to_profile(PROFILE)
    assert set(virtual.policy_on(date(2022, 6, 20)).attendance.values()) == {"virtual"}
    assert virtual.policy_on(date(2022, 6, 3)).attendance["initial"] == "in_person"


def test_a_surge_raises_referrals_on_its_days_and_the_same_seed_gives_the_same_workload_without_one():
    surge = load_scenario("surge", START, START)
    assert surge.referral_factor(START) == 2.0 and surge.referral_factor(date(2022, 7, 1)) == 1.0

    def referrals(factor: float) -> int:
        workload = Workload(PROFILE, 7, PROFILE.calendar())
        now = datetime(2022, 5, 3, 9)
        return sum(len(workload.initial_requests(START, now, factor)) for _ in range(200))

    usual, doubled = referrals(1.0), referrals(2.0)
    assert usual == referrals(1.0)
    assert 1.6 * usual < doubled < 2.4 * usual


def test_sickness_is_entered_on_its_first_day_and_leave_before_the_run():
    scenario = load_scenario("chairs-off-sick", START, START)
    sick = scenario.absences_announced_on(date(2022, 5, 5))
    assert {away.chair_id for away in sick} == {"CHAIR-GL-01", "CHAIR-GL-02", "CHAIR-GL-03", "CHAIR-GL-04"}
    assert [away.chair_id for away in scenario.absences_announced_on(None)] == ["CHAIR-GL-05"]


def test_a_scenario_naming_a_chair_the_council_does_not_have_is_refused():
    from cpc_stack.simulation.scenarios import from_mapping
    with pytest.raises(ValueError, match="no chair"):
        from_mapping({"chairs_away": [{"chair": "CHAIR-XX", "from": "+0", "to": "+3"}]}, START).apply_to_profile(PROFILE)
    with pytest.raises(ValueError, match="unknown fields"):
        from_mapping({"chairs_off": []}, START)
