"""The composition root: the scheduling service's adapters, wired once."""

from __future__ import annotations

from typing import Literal

from cpc_shared.repository import Repository
from cpc_shared.service import Service
from cpc_shared.settings import StaffApiSettings
from pydantic import Field

from cpc_scheduling.adapters.store import CONFERENCES, Arrivals, CaseIndex, ChairSessions, prepare
from cpc_scheduling.domain.conference import Conference, Council
from cpc_scheduling.domain.tasks import TeamTask
from cpc_scheduling.handlers import Scheduling
from cpc_scheduling.team_tasks import TASKS, TeamTasks


class SchedulingSettings(StaffApiSettings):
    timer_poll_seconds: float = Field(5.0, gt=0, description="How often the team's tasks are checked for reminders.")
    planner: Literal["solver", "greedy"] = Field(
        "solver", description="How a conference is placed: `solver` weighs every session, chair and room with a "
        "constraint solver (initial conferences first when the coming weeks' chairs run short); `greedy` offers the "
        "rooms service candidate sessions, best first.")
    solver_seconds: float = Field(1.0, gt=0, description="The solver's own (deterministic) time for one conference; "
                                  "four times as many seconds on the clock at most, then the greedy planner.")
    max_moves: int = Field(8, ge=0, description="Conferences already scheduled the solver may move to bring a late "
                           "one in time (announced as ConferenceRescheduled); 0: never.")
    frozen_working_days: int = Field(5, ge=1, description="A conference fewer working days away than this is never "
                                     "moved by the planner: its invitations went out.")
    reports_url: str = Field(
        "http://127.0.0.1:8103", description="The reports service's HTTP address: the dashboard reads each "
        "conference's reports and whether the family's views are in from its staff API, with the user's token.",
        examples=["http://cpc-reports:8100"])
    rooms_url: str = Field(
        "http://127.0.0.1:8102", description="The rooms service's HTTP address: the dashboard reads each office's "
        "room calendar from its staff API, with the user's token.", examples=["http://cpc-rooms:8100"])


def bootstrap(settings: SchedulingSettings) -> tuple[Service, Scheduling]:
    service = Service(
        "scheduling", settings, outbox_collections=[CONFERENCES, TASKS], prepare_store=prepare,
        description="Conferences: statutory deadlines, chairs, slots, rooms requested, conferences scheduled.",
    )
    council = Council.of(settings.profile())
    scheduling = Scheduling(
        conferences=Repository(service.store, Conference, service.relay), cases=CaseIndex(service.store),
        chairs=ChairSessions(service.store),
        tasks=TeamTasks(Repository(service.store, TeamTask, service.relay), council.profile, council.calendar,
                        service.clock),
        council=council, clock=service.clock, planner=settings.planner, arrivals=Arrivals(service.store),
        solver_seconds=settings.solver_seconds, max_moves=settings.max_moves,
        frozen_working_days=settings.frozen_working_days)
    return service, scheduling
