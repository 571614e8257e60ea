"""A council's profile: offices, rooms, chairs, working hours, closure days and effective-dated policies.

Loaded from a YAML file and validated on load; an error names the field that is wrong.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cpc_shared.calendar import WorkingDayCalendar
from cpc_shared.contracts.outbound import AttendanceMode

Weekday = Literal["mon", "tue", "wed", "thu", "fri"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Period(_Strict):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


class Place(_Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Room(_Strict):
    id: str
    name: str
    capacity: int = Field(gt=0)
    hybrid: bool = False
    step_free: bool = False
    hearing_loop: bool = False
    out_of_use: list[Period] = []

    def in_use_on(self, day: date) -> bool:
        return not any(day in period for period in self.out_of_use)


class OpeningHours(_Strict):
    start: time = time(8, 30)
    end: time = time(17, 30)


class Office(_Strict):
    id: str
    name: str
    address: str
    location: Place
    postcode_districts: list[str] = []
    opening_hours: OpeningHours = OpeningHours()
    closure_days: list[date] = []
    rooms: list[Room] = Field(min_length=1)

    def open_for(self, starts_at: datetime, ends_at: datetime, zone: ZoneInfo) -> bool:
        start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
        return (start.date() not in self.closure_days and start.time() >= self.opening_hours.start
                and end.time() <= self.opening_hours.end and start.date() == end.date())


class Chair(_Strict):
    id: str
    working_days: list[Weekday] = list(WEEKDAYS)
    max_per_day: int = Field(2, gt=0)
    leave: list[Period] = []

    def available_on(self, day: date) -> bool:
        return day.weekday() < 5 and WEEKDAYS[day.weekday()] in self.working_days and not any(
            day in period for period in self.leave
        )


class WorkingHours(_Strict):
    start: time
    end: time


class MeetingLinks(_Strict):
    """How links for virtual and hybrid conferences are made: `template` fills in the council's own
    meeting-service address with the conference id."""

    provider: Literal["template"] = "template"
    address_template: str = Field(examples=["https://meet.council.example/cpc/{conference_id}"])
    dial_in: str | None = Field(None, description="A phone number to join by, for those without video.",
                                examples=["01632 960000"])

    @model_validator(mode="after")
    def _has_placeholder(self) -> MeetingLinks:
        if "{conference_id}" not in self.address_template:
            raise ValueError("address_template needs {conference_id}")
        return self


Kind = Literal["initial", "review", "transfer_in", "pre_birth"]


class ReportDue(_Strict):
    """When a report is due: a number of hours before the conference, or of working days by kind."""

    hours_before: int | None = Field(None, ge=0)
    hours_on: Literal["working_days", "every_day"] = Field(
        "working_days", description="working_days: the hours' clock stops at weekends, bank holidays and closure "
        "days (48 hours before a Monday 09:30 conference is the Thursday before, 09:30); every_day: clock hours")
    working_days_before: dict[Kind, int] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> ReportDue:
        if (self.hours_before is None) == (self.working_days_before is None):
            raise ValueError("give either hours_before or working_days_before")
        return self

    def lead_working_days(self, kind: str) -> int:
        """About how many working days before the conference this falls (for planning)."""
        if self.hours_before is not None:
            return -(-self.hours_before // 24)
        by_kind: dict[str, int] = {k: v for k, v in (self.working_days_before or {}).items()}
        return by_kind.get(kind, max(by_kind.values(), default=0))


class ReportRules(_Strict):
    partners: ReportDue = ReportDue(hours_before=72)
    social_worker: ReportDue | None = Field(None, description="defaults to the partners' rule")
    share_with_family: ReportDue | None = Field(
        ReportDue(hours_before=48), description="when the social worker's report must reach the parents"
    )
    preparation_working_days: int = Field(3, ge=0, description="working days an agency has to write its report")
    escalate_to_chair_after_hours: int = Field(24, ge=0, description="a report still missing this long after it was due")


class PreBirthRules(_Strict):
    """When a conference about an unborn child is held, and its first review."""

    conference_by_week_of_pregnancy: int = Field(ge=10, le=40, description="held by this week of pregnancy")
    first_review_within_working_days_of_birth: int = Field(
        ge=1, description="the first review is due this many working days after the birth (the date the case-management "
        "system expected, until the team records the birth), or three months after the conference if that is sooner")


class AfterConference(_Strict):
    """Working days after a conference by which the team must have done each thing."""

    decision_letter_working_days: int = Field(1, ge=0, description="the decision letter to everyone invited")
    record_working_days: int = Field(15, ge=0, description="the conference's full record (Cheshire: 15)")
    first_core_group_working_days: int = Field(10, ge=0, description="the first core group meeting, once a plan starts")


class Policy(_Strict):
    effective_from: date
    attendance: dict[Literal["initial", "review", "transfer_in", "pre_birth"], AttendanceMode]
    quoracy_waived: bool = False
    reports: ReportRules = Field(default_factory=lambda: ReportRules())
    pre_birth: PreBirthRules = Field(description="a local rule: every council says its own (Sussex and Derbyshire: "
                                     "by 28 weeks; Sefton: by 34; Tees: first review within 10 working days of birth)")
    reconvene_within_working_days: int = Field(10, gt=0, description="a new date after an inquorate conference")
    minimum_notice_working_days: int = Field(
        1, ge=1, description="the fewest working days between a request and its conference, for the invitations; "
        "the agencies' usual time for reports gives way to the statutory deadline, this does not")
    review_window_working_days: int = Field(
        10, ge=0, description="reviews are held in the last this-many working days before they are due"
    )
    reminder_working_days_before: list[int] = [5, 1]
    after_conference: AfterConference = AfterConference()

    @model_validator(mode="after")
    def _every_kind(self) -> Policy:
        missing = {"initial", "review", "transfer_in", "pre_birth"} - set(self.attendance)
        if missing:
            raise ValueError(f"attendance needs a mode for {', '.join(sorted(missing))}")
        return self


class Profile(_Strict):
    council: str
    council_id: str | None = Field(None, description="the local authority's code (ONS GSS), for partner systems",
                                   examples=["E10000013"])
    timezone: str = "Europe/London"
    working_hours: WorkingHours
    conference_minutes: dict[Literal["initial", "review", "transfer_in", "pre_birth"], int]
    session_starts: list[time] = Field(
        default_factory=lambda: [time(9, 30), time(13, 30)], min_length=1,
        description="the times of day conferences start; a chair holds at most one conference per session",
    )
    reserve_for_initial_per_chair_day: int = Field(
        1, ge=0, description="sessions per chair-day that reviews may not take, so initial conferences come first"
    )
    meeting_links: MeetingLinks
    closure_days: list[date] = []
    chairs: list[Chair] = Field(min_length=1)
    offices: list[Office] = Field(min_length=1)
    default_office: str
    max_office_distance_km: float = Field(50, gt=0)
    policies: list[Policy] = Field(min_length=1)

    def calendar(self) -> WorkingDayCalendar:
        """Working days here: weekdays that are neither England's bank holidays nor the council's closure days."""
        return WorkingDayCalendar(self.closure_days)

    def with_closure_days(self, days: list[date]) -> Profile:
        """The same profile with more closure days (an operator's, from the environment)."""
        return self.model_copy(update={"closure_days": sorted({*self.closure_days, *days})})

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.default_office not in {office.id for office in self.offices}:
            raise ValueError(f"default_office {self.default_office!r} is not one of the offices")
        for start in self.session_starts:
            if not self.working_hours.start <= start < self.working_hours.end:
                raise ValueError(f"session_starts: {start:%H:%M} is outside working_hours")
        longest = max(self.conference_minutes.values())
        for start in self.session_starts:
            if (start.hour * 60 + start.minute + longest) > (self.working_hours.end.hour * 60 + self.working_hours.end.minute):
                raise ValueError(f"session_starts: a {longest}-minute conference at {start:%H:%M} ends after working hours")
        dates = [policy.effective_from for policy in self.policies]
        if dates != sorted(dates) or len(dates) != len(set(dates)):
            raise ValueError("policies must be in order of effective_from, one per date")
        return self

    def chair(self, chair_id: str) -> Chair | None:
        return next((chair for chair in self.chairs if chair.id == chair_id), None)

    def policy_on(self, day: date) -> Policy:
        """The policy in force on `day` (the earliest one before the first takes effect)."""
        current = self.policies[0]
        for policy in self.policies:
            if policy.effective_from <= day:
                current = policy
        return current


class ProfileError(ValueError):
    pass


def load_profile(path: str | Path) -> Profile:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ProfileError(f"{path}: cannot read the profile: {error}") from None
    try:
        return Profile.model_validate(raw)
    except ValidationError as error:
        root = yaml.compose(path.read_text())
        problems = "; ".join(
            f"line {_line_of(root, item['loc'])}, {'.'.join(str(p) for p in item['loc']) or 'profile'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise ProfileError(f"{path}: {problems}") from None


def _line_of(node: yaml.Node | None, loc: tuple) -> int:
    """The line of the YAML node a validation error points at (the nearest one that exists)."""
    if node is None:
        return 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            child = next((value for key, value in node.value if key.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        else:
            child = None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1
