"""`./dev plan-bench` on a short seeded period (no stack): both planners keep the hard rules."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from cpc_stack.planbench import bench


@pytest.fixture(scope="module")
def results():
    return bench("gloucestershire", ["shortfall"], 8, 7, None, time_limit=1.0)


def test_both_planners_place_every_request_and_keep_the_hard_rules(results):
    scenario, greedy, solver = results[0]
    profile = greedy.state.profile
    assert scenario.name == "shortfall" and scenario.start == date(2022, 6, 6)
    for result in (greedy, solver):
        placed = result.state.placements
        assert {r.need.conference_id for r in result.requests} == set(placed)
        assert max(Counter((p.chair_id, p.day, p.at) for p in placed.values()).values()) == 1  # one place at a time
        rooms = Counter((p.room_id, p.day, p.at) for p in placed.values() if p.room_id)
        assert max(rooms.values()) == 1  # never double-booked
        for p in placed.values():
            chair = profile.chair(p.chair_id)
            assert chair is not None and chair.available_on(p.day)  # the chair's working days
            assert not result.state.diary.is_away(p.chair_id, p.day)  # nor while away
            if p.mode != "virtual":
                office = next(o for o in profile.offices if o.id == p.office_id)
                assert p.day not in office.closure_days  # an office closed has no conference


def test_the_figures_are_those_of_the_period_and_the_same_seed_gives_the_same_figures(results):
    _, greedy, solver = results[0]
    figures = greedy.figures()
    assert figures["initial conferences"] == solver.figures()["initial conferences"] > 0
    assert figures["initial conferences"] == sum(
        1 for r in greedy.requests if r.need.kind != "review" and r.arrives.date() >= greedy.measured_from)
    _, greedy_again, _ = bench("gloucestershire", ["shortfall"], 8, 7, None, time_limit=1.0)[0]
    assert greedy_again.figures() == figures
