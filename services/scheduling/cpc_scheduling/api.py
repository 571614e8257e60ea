"""The conference team's API: upcoming conferences, one conference's history, timescale compliance,
and the chair's operations. Every caller authenticates with a bearer token.

(No `from __future__ import annotations` here: FastAPI reads the dependencies from the annotations.)"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from cpc_shared.http import Identity, authenticator
from cpc_shared.repository import StaleWrite
from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from cpc_scheduling import operations
from cpc_scheduling.domain.census import by_kind, counted, share_within_timescale
from cpc_scheduling.domain.conference import UPCOMING, Conference, ConferenceStatus
from cpc_scheduling.domain.tasks import TaskKind
from cpc_scheduling.handlers import Scheduling
from cpc_scheduling.operations import Refused

NATIONAL_INITIAL_ON_TIME = {"share": 0.814, "year": "2024-25", "source": "Children in Need census, England"}
PUBLIC_FIELDS = ("request_id", "case_id", "conference_type", "status", "statutory_deadline", "starts_at", "ends_at",
                 "attendance_mode", "office_id", "room_id", "chair_id", "version", "late_reason",
                 "previous_conference_id", "reconvened_from", "outcome", "held_on", "family_could_not_join")


class Reschedule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    starts_at: AwareDatetime = Field(description="The new start, with its offset; one of the council's session times.")
    reason: str | None = Field(None, max_length=2000, description="Required when the new date is past the deadline.")


class InformalReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    held_on: date
    next_review_by: date | None = Field(None, description="An earlier date for the next review, if the chair sets one.")


class ChairAbsence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_day: date
    last_day: date
    kind: Literal["leave", "sickness"]


class Birth(BaseModel):
    model_config = ConfigDict(extra="forbid")
    born_on: date


class TaskDone(BaseModel):
    model_config = ConfigDict(extra="forbid")
    done_on: date | None = Field(None, description="The day it was done; today if not given.")


def summary(conference: Conference) -> dict[str, Any]:
    state = {"version": conference.version, **conference.state()}
    return {"conference_id": conference.id, **{k: state[k] for k in PUBLIC_FIELDS if state.get(k) is not None and state.get(k) is not False}}


async def compliance_between(s: Scheduling, from_date: date, to_date: date) -> dict[str, Any]:
    """Conferences on time, by kind, from `from_date` to `to_date`, counted as the census counts (the API's
    /compliance and the dashboard's month)."""
    zone, now = s.council.zone, s.clock.now()
    start = datetime.combine(from_date, time(0), tzinfo=zone)
    end = datetime.combine(to_date + timedelta(days=1), time(0), tzinfo=zone)
    first, last = from_date.isoformat(), to_date.isoformat()
    docs = {c.id: c for c in await s.conferences.find({"$or": [
        {"statutory_deadline": {"$gte": first, "$lte": last}}, {"held_on": {"$gte": first, "$lte": last}},
        {"starts_at": {"$gte": start, "$lt": end}}]})}
    records = [c.census_record(now, zone) for c in docs.values() if c.status != ConferenceStatus.INFORMAL_REVIEW_HELD]
    found = counted(records, from_date, to_date, now.astimezone(zone).date())
    kinds: dict[str, dict[str, int | float]] = {
        kind: {**figures, "share_within_timescale": round(share_within_timescale(figures) or 0.0, 3)}
        for kind, figures in by_kind(found).items()}
    late = [{**summary(docs[one.record.conference_id]), "held_on": one.record.held_on,
             "reason": one.record.late_reason or ("not_held_by_deadline" if not one.held else "unknown")}
            for one in found if not one.on_time]
    return {"from": from_date, "to": to_date, "by_type": kinds, "late": late,
            "counted_as": "each conference by the day it was held; one not held, as late once its deadline passed",
            "national_initial_within_15_working_days": NATIONAL_INITIAL_ON_TIME}


def build_api(s: Scheduling, token_secret: str) -> FastAPI:
    api = FastAPI(title="Child protection conferences: conference team API", version="1",
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    staff = authenticator(token_secret, {"chair", "coordinator", "manager"})
    chairs = authenticator(token_secret, {"chair", "manager"})
    team_tasks = s.tasks

    @api.exception_handler(Refused)
    async def refused(_request: Any, error: Refused) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    @api.exception_handler(StaleWrite)
    async def changed_meanwhile(_request: Any, _error: StaleWrite) -> JSONResponse:
        return JSONResponse({"detail": "the conference changed meanwhile; try again"}, status_code=409)

    @api.get("/api/conferences", summary="Upcoming conferences, soonest first")
    async def upcoming(
        _: Annotated[Identity, Depends(staff)],
        office_id: str | None = None, chair_id: str | None = None,
        days: Annotated[int, Query(ge=1, le=366)] = 31,
    ) -> list[dict[str, Any]]:
        now = s.clock.now()
        query: dict[str, Any] = {"status": {"$in": [status.value for status in UPCOMING]}}
        if office_id:
            query["office_id"] = office_id
        if chair_id:
            query["chair_id"] = chair_id
        found = await s.conferences.find(query)
        horizon = now + timedelta(days=days)
        soon = [c for c in found if c.starts_at is None or now <= c.starts_at <= horizon]
        soon.sort(key=lambda c: c.starts_at or datetime.max.replace(tzinfo=UTC))
        return [summary(c) for c in soon]

    @api.get("/api/conferences/{conference_id}", summary="One conference and its history")
    async def one(conference_id: str, _: Annotated[Identity, Depends(staff)]) -> dict[str, Any]:
        conference = await s.conferences.get(conference_id)
        if conference is None:
            raise HTTPException(404, f"no conference {conference_id}")
        return {**summary(conference), "invitees": [i.model_dump() for i in conference.invitees],
                "history": conference.history, "tasks": await team_tasks.of_conference(conference_id)}

    @api.get("/api/compliance", summary="Conferences on time, by kind, for a period, counted as the census counts")
    async def compliance(
        _: Annotated[Identity, Depends(staff)],
        from_date: Annotated[date, Query(alias="from")], to_date: Annotated[date, Query(alias="to")],
    ) -> dict[str, Any]:
        """Each conference in the period it was held, on time when held by its statutory deadline; one not held
        counts as late in the period of its deadline once that has passed. Reconvened conferences count apart."""
        if to_date < from_date:
            raise HTTPException(422, "'to' is before 'from'")
        return await compliance_between(s, from_date, to_date)

    @api.post("/api/chairs/{chair_id}/absences", summary="A chair's leave or sickness: their conferences are covered")
    async def chair_absence(chair_id: str, body: ChairAbsence, who: Annotated[Identity, Depends(staff)]) -> dict:
        return await operations.chair_away(chair_id, body.first_day, body.last_day, body.kind, who, s)

    @api.post("/api/cases/{case_id}/birth", summary="A child of a pre-birth conference is born: the first review follows")
    async def birth(case_id: str, body: Birth, who: Annotated[Identity, Depends(staff)]) -> dict:
        return await operations.birth_recorded(case_id, body.born_on, who, s)

    @api.get("/api/tasks", summary="The team's tasks around conferences: overdue first, then by due date")
    async def tasks(_: Annotated[Identity, Depends(staff)],
                    state: Literal["open", "overdue", "done", "all"] = "open") -> list[dict[str, Any]]:
        return await team_tasks.listing(state)

    @api.post("/api/conferences/{conference_id}/tasks/{task}/done", summary="Record that a task is done")
    async def task_done(conference_id: str, task: TaskKind, body: TaskDone,
                        who: Annotated[Identity, Depends(staff)]) -> dict[str, Any]:
        today = s.council.local_date(s.clock.now())
        if body.done_on and body.done_on > today:
            raise HTTPException(422, "done_on is in the future")
        done = await team_tasks.mark_done(conference_id, task, body.done_on or today, who.subject)
        if done is None:
            raise HTTPException(404, f"conference {conference_id} has no {task.replace('_', ' ')} to do")
        return done

    @api.post("/api/conferences/{conference_id}/reschedule", status_code=202, summary="Move a conference")
    async def reschedule(conference_id: str, body: Reschedule, who: Annotated[Identity, Depends(chairs)]) -> dict:
        return await operations.reschedule(conference_id, body.starts_at, body.reason, who, s)

    @api.post("/api/conferences/{conference_id}/informal-review", summary="Record an informal review")
    async def informal_review(conference_id: str, body: InformalReview,
                              who: Annotated[Identity, Depends(chairs)]) -> dict:
        return await operations.informal_review(conference_id, body.held_on, body.next_review_by, who, s)

    @api.post("/api/conferences/{conference_id}/family-could-not-join",
              summary="Record that the family could not join: discussions before and after become due")
    async def family_could_not_join(conference_id: str, who: Annotated[Identity, Depends(chairs)]) -> dict:
        return await operations.family_could_not_join(conference_id, who, s)

    return api
