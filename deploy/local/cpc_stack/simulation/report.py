"""The run's report: figures counted from the events the topics carried (never from a service's database),
a terminal summary, and an HTML page with charts (Chart.js, the dashboard's, written into the page: it opens
anywhere, with nothing to fetch)."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cpc_scheduling.domain import census
from cpc_shared.profile import Profile
from cpc_shared.web.charts import bar_chart, canvas, inline_scripts

from cpc_stack import eventlog

NATIONAL_INITIAL_ON_TIME = 0.814  # England, 2024-25, Children in Need census
MODES = ("in_person", "hybrid", "virtual")
REPORT_STATES = ("on_time", "late", "missing", "outstanding")
MISSING_AFTER_WORKING_DAYS = 2
COLOURS = {"in_person": "#1d70b8", "hybrid": "#00703c", "virtual": "#f47738", "on_time": "#00703c",
           "late": "#f47738", "missing": "#d4351c", "outstanding": "#b1b4b6", "bar": "#1d70b8", "national": "#505a5f"}


def on_time_from_topics(events: list[dict[str, Any]], zone: ZoneInfo, start: date, end: date
                       ) -> tuple[dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Conferences on time in the period, counted the census way from what the topics carried (each event as
    `{"type", "data"}`): by the day held (the case-management system's outcome, else the day booked once it
    had begun); one not held counts as late once its deadline has passed; reconvened ones count apart."""
    latest: dict[str, dict[str, Any]] = {}  # each conference's newest version, or its deadline-at-risk
    reasons: dict[str, str] = {}
    cancelled: set[str] = set()
    outcomes: dict[str, date] = {}
    for event in events:
        data = event["data"]
        if event["type"] in ("cpc.ConferenceScheduled.v1", "cpc.ConferenceRescheduled.v1"):
            known = latest.get(data["conference_id"])
            if known is None or data["version"] >= known.get("version", 0):
                latest[data["conference_id"]] = data
        elif event["type"] == "cpc.ConferenceDeadlineAtRisk.v1":
            reasons[data["conference_id"]] = data["reason"]
            if data.get("conference_type"):
                latest.setdefault(data["conference_id"], data)
        elif event["type"] == "cpc.ConferenceCancelled.v1":
            cancelled.add(data["conference_id"])
        elif event["type"] == "casemgmt.ConferenceOutcomeRecorded.v1":
            outcomes[data["conference_id"]] = date.fromisoformat(data["held_on"])
    now = datetime.combine(end, time(0), tzinfo=zone)
    records = []
    for conference_id, data in latest.items():
        booked = datetime.fromisoformat(data["starts_at"]) if data.get("starts_at") else None
        records.append(census.ConferenceRecord(
            conference_id=conference_id, conference_type=data["conference_type"],
            statutory_deadline=date.fromisoformat(data["statutory_deadline"]),
            reconvened=bool(data.get("reconvened_from")), cancelled=conference_id in cancelled,
            held_on=census.held_on(outcomes.get(conference_id), None if conference_id in cancelled else booked,
                                   now, zone),
            late_reason=reasons.get(conference_id)))
    found = census.counted(records, start, end - timedelta(days=1), end)
    late = sorted(({"conference_id": c.record.conference_id, "kind": c.record.kind,
                    "deadline": c.record.statutory_deadline.isoformat(),
                    "held": c.record.held_on.isoformat() if c.record.held_on else "not held",
                    "reason": c.record.late_reason or ("not_held_by_deadline" if not c.held else "unknown")}
                   for c in found if not c.on_time), key=lambda row: (row["deadline"], row["conference_id"]))
    return census.by_kind(found), late


def gather(profile: Profile, start: date, days: int, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Every figure of the report, from the events the topics carried (`eventlog`): conferences from
    scheduling's, room bookings from rooms', reports' states from reports', messages from notifications'."""
    zone = ZoneInfo(profile.timezone)
    log = eventlog.fold(events)
    end = start + timedelta(days=days)
    held = [c for c in log.conferences.values() if c.starts_at and c.status in ("scheduled", "held", "moving")
            and start <= c.starts_at.astimezone(zone).date() < end]
    by_kind, late = on_time_from_topics(events, zone, start, end)
    per_office_day: dict[str, Counter[str]] = defaultdict(Counter)
    modes_by_day: dict[str, Counter[str]] = defaultdict(Counter)
    for c in held:
        day = c.starts_at.astimezone(zone).date().isoformat()  # type: ignore[union-attr]
        per_office_day[c.get("office_id") or "online"][day] += 1
        modes_by_day[day][c.get("attendance_mode")] += 1
    for n in range(days):  # every working day has its column, so a policy's first day shows even when empty
        if profile.calendar().is_working_day(start + timedelta(days=n)):
            modes_by_day[(start + timedelta(days=n)).isoformat()].update({})
    working_days = sum(1 for n in range(days) if (start + timedelta(days=n)).weekday() < 5)
    bookings = log.booked()
    room_use = []
    for office in profile.offices:
        open_hours = (datetime.combine(date.min, office.opening_hours.end)
                      - datetime.combine(date.min, office.opening_hours.start)).seconds / 3600
        for room in office.rooms:
            booked = sum((b.ends_at - b.starts_at).seconds / 3600 for b in bookings if b.room_id == room.id
                         and start <= b.starts_at.astimezone(zone).date() < end)
            room_use.append({"room": f"{office.name.split(' district')[0]} · {room.name}",
                             "share": booked / (open_hours * working_days) if working_days else 0.0})
    report_states: dict[str, Counter[str]] = defaultdict(Counter)
    reports = [r for c in log.conferences.values() for r in c.reports.values()]
    now_reports = [r for r in reports if r.status != "withdrawn" and start <= r.due_at.astimezone(zone).date() < end]
    # A report not in by the end is missing once it is two working days overdue; before that an agency that
    # sends late may still send it, so it is counted apart, as outstanding.
    calendar, last_day = profile.calendar(), end - timedelta(days=1)
    for r in now_reports:
        if r.status == "submitted":
            state = "late" if r.late else "on_time"
        elif calendar.working_days_between(r.due_at.astimezone(zone).date(), last_day) >= MISSING_AFTER_WORKING_DAYS:
            state = "missing"
        else:
            state = "outstanding"
        report_states[r.agency][state] += 1
    channels = Counter((m.channel, m.purpose) for c in log.conferences.values() for m in c.messages.values()
                       if m.status == "sent")
    policy_switches = [(p.effective_from, p.attendance) for p in profile.policies if start < p.effective_from < end]
    family_views = family_views_before_the_day(events, held, zone)
    return {"council": profile.council, "start": start.isoformat(), "days": days, "by_kind": by_kind,
            "per_office_day": {k: dict(v) for k, v in per_office_day.items()},
            "modes_by_day": {k: dict(v) for k, v in sorted(modes_by_day.items())}, "room_use": room_use,
            "reports": {k: dict(v) for k, v in report_states.items()},
            "messages": [{"channel": ch, "purpose": pu, "count": n} for (ch, pu), n in sorted(channels.items())],
            "policy_switches": [(d.isoformat(), dict(a)) for d, a in policy_switches], "late": late,
            "conferences_in_store": len(log.conferences),  # every conference scheduling published about
            "family_views": family_views}


def family_views_before_the_day(events: list[dict[str, Any]], held: list[eventlog.Conference], zone: ZoneInfo
                                ) -> dict[str, Any]:
    """Of the conferences held in the period, how many had a parent's, carer's or child's views in before the day
    (their form, counted from `FamilyViewsReceived`: the first save of each family member, and every save)."""
    first: dict[str, datetime] = {}
    writers, saves = set(), 0
    for event in events:
        if event["type"] == "cpc.FamilyViewsReceived.v1":
            data, saves = event["data"], saves + 1
            writers.add((data["conference_id"], data["participant_id"]))
            at = datetime.fromisoformat(data["received_at"])
            first[data["conference_id"]] = min(at, first.get(data["conference_id"], at))
    before = [c for c in held if c.id in first
              and first[c.id] < datetime.combine(c.starts_at.astimezone(zone).date(), time(0), tzinfo=zone)]
    return {"conferences": len(held), "with_views": len(before), "share": len(before) / len(held) if held else None,
            "family_members": len(writers), "saves": saves}


share = census.share_within_timescale


def _under(figures: dict[str, Any]) -> str:
    """The scenario the period ran under, if any (`cpc_stack.simulation.scenarios`)."""
    scenario = figures.get("scenario")
    if not scenario or scenario.get("name") == "none":
        return ""
    return f", scenario {scenario['name']}" + (f" ({scenario['description']})" if scenario.get("description") else "")


def summary(figures: dict[str, Any]) -> str:
    lines = [f"{figures['council']}: {figures['days']} days from {figures['start']}{_under(figures)}"]
    initial = figures["by_kind"].get("initial")
    first = share(initial)
    lines.append(f"  initial conferences within 15 working days: "
                 f"{'-' if first is None else f'{first:.1%}'} of {initial['conferences'] if initial else 0}"
                 f"  (England 2024-25: {NATIONAL_INITIAL_ON_TIME:.1%}; counted as the census does: by the day held, "
                 f"and any not held by a deadline that has passed)")
    for kind, label in (("review", "reviews"), ("transfer_in", "transfers in"), ("pre_birth", "pre-birth"),
                        ("reconvened", "reconvened after an inquorate conference")):
        figures_of_kind = figures["by_kind"].get(kind)
        if figures_of_kind or kind == "review":
            lines.append(f"  {label} on time: {'-' if share(figures_of_kind) is None else f'{share(figures_of_kind):.1%}'}"
                         f" of {figures_of_kind['conferences'] if figures_of_kind else 0}")
    totals = Counter()
    for states in figures["reports"].values():
        totals.update(states)
    lines.append(f"  reports: {totals['on_time']} on time, {totals['late']} late, {totals['missing']} missing, "
                 f"{totals['outstanding']} outstanding (under {MISSING_AFTER_WORKING_DAYS} working days overdue at the end)")
    views = figures.get("family_views") or {}
    if views.get("conferences"):
        lines.append(f"  the family's views in before the day: {views['share']:.1%} of {views['conferences']} conferences held "
                     f"({views['family_members']} parents, carers or children wrote; {views['saves']} saves)")
    lines.append(f"  messages sent: {sum(m['count'] for m in figures['messages'])}; "
                 f"conferences past their deadline: {len(figures['late'])}")
    return "\n".join(lines)


# HTML ----------------------------------------------------------------------------------------


def _bars(rows: list[tuple[str, float]], *, percent: bool = True, reference: tuple[str, float] | None = None,
          label: str) -> str:
    """A horizontal bar chart (Chart.js): shares in per cent, or counts."""
    values = [round(100 * v, 1) if percent else v for _, v in rows]
    config = bar_chart([name for name, _ in rows], {label: values}, percent=percent, horizontal=True,
                       reference=(reference[0], round(100 * reference[1], 1)) if reference else None,
                       colours={label: COLOURS["bar"]})
    return canvas(config, label, "tall" if len(rows) > 8 else "medium")


def _stacked(columns: list[tuple[str, dict[str, int]]], keys: tuple[str, ...], *, markers: list[str] = (),
             tick: Callable[[str], str] = lambda day: day[5:], label: str) -> str:
    """Vertical stacked bars (Chart.js), one per column (day or agency); a marked column's label says so."""
    labels = [tick(name) + (" (policy from here)" if name in markers else "") for name, _ in columns]
    series = {key.replace("_", " "): [counts.get(key, 0) for _, counts in columns] for key in keys}
    config = bar_chart(labels, series, stacked=True,
                       colours={key.replace("_", " "): COLOURS[key] for key in keys})
    return canvas(config, label, "medium")


def render_html(figures: dict[str, Any]) -> str:
    initial, review = figures["by_kind"].get("initial"), figures["by_kind"].get("review")
    timeliness = [(f"initial ({initial['conferences'] if initial else 0})", share(initial) or 0.0),
                  (f"review ({review['conferences'] if review else 0})", share(review) or 0.0)]
    offices = sorted(figures["per_office_day"].items(), key=lambda kv: -sum(kv[1].values()))
    days = sorted({d for counts in figures["per_office_day"].values() for d in counts})
    office_table = "<table><tr><th>office</th>" + "".join(f"<th>{d[5:]}</th>" for d in days) + "<th>all</th></tr>"
    for office, counts in offices:
        cells = "".join(f'<td style="background:rgba(29,112,184,{min(counts.get(d, 0) / 6, 1):.2f})">'
                        f'{counts.get(d, "")}</td>' for d in days)
        office_table += f"<tr><th>{html.escape(office)}</th>{cells}<td>{sum(counts.values())}</td></tr>"
    office_table += "</table>"
    switches = [d for d, _ in figures["policy_switches"]]
    mode_days = [(d, counts) for d, counts in figures["modes_by_day"].items()]
    marker_days = [d for d in switches if d in figures["modes_by_day"]]
    reports = sorted(figures["reports"].items())
    message_rows = [(f"{m['purpose']} by {m['channel']}", m["count"]) for m in figures["messages"]]
    late_rows = "".join(f"<tr><td>{html.escape(r['conference_id'])}</td><td>{r['kind']}</td><td>{r['deadline']}</td>"
                        f"<td>{r['held']}</td><td>{html.escape(r['reason'].replace('_', ' '))}</td></tr>"
                        for r in figures["late"]) or "<tr><td colspan=5>None: every conference within its deadline.</td></tr>"
    switch_text = "; ".join(f"{d}: " + ", ".join(f"{k.replace('_', ' ')} {v.replace('_', ' ')}" for k, v in a.items())
                            for d, a in figures["policy_switches"]) or "no change of policy in this period"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Conferences: {html.escape(figures['council'])}</title>
<style>
body {{ font-family: Arial, sans-serif; color: #0b0c0c; margin: 2em; max-width: 1000px; }}
h1 {{ font-size: 1.6em; }} h2 {{ margin-top: 2em; border-bottom: 1px solid #b1b4b6; }}
.chart-box {{ position: relative; width: 100%; }} .chart-box.medium {{ height: 300px; }}
.chart-box.tall {{ height: 420px; }} table {{ border-collapse: collapse; font-size: 12px; }}
td, th {{ border: 1px solid #b1b4b6; padding: 2px 5px; text-align: center; }} .big {{ font-size: 2.2em; font-weight: bold; }}
</style>
{inline_scripts()}
</head><body>
<h1>{html.escape(figures['council'])}: {figures['days']} days from {figures['start']}{html.escape(_under(figures))}</h1>
<p class="big">{(share(initial) or 0):.0%} of initial conferences within 15 working days</p>
<p>England, 2024-25: {NATIONAL_INITIAL_ON_TIME:.1%}. Counted as the Children in Need census counts: each conference
by the day it was held, from the strategy discussion; one not held by a deadline that has passed counts as late;
reconvened conferences apart. Every figure is counted from the events the topics carried.</p>
<h2>Held on time</h2>
{_bars(timeliness, reference=("England, initial, 81.4%", NATIONAL_INITIAL_ON_TIME), label="Held on time, by kind")}
<h2>Conferences per office and day</h2>
{office_table}
<h2>Room use (share of opening hours booked, working days)</h2>
{_bars([(r['room'], r['share']) for r in figure_rooms(figures)], label="Room use")}
<h2>Attendance modes over time</h2>
<p>{html.escape(switch_text)}</p>
{_stacked(mode_days, MODES, markers=marker_days, label="Attendance modes by day")}
<h2>Reports by agency</h2>
<p>Reports due in the period, by what had happened to them at its end. Missing: not in, {MISSING_AFTER_WORKING_DAYS}
or more working days after it was due. Outstanding: not in, due in the period's last working days.</p>
{_stacked([(agency, states) for agency, states in reports], REPORT_STATES, tick=lambda a: a.replace("_", " "),
          label="Reports by agency")}
<h2>The family's views before the day</h2>
{_family_views(figures.get("family_views") or {})}
<h2>Messages by channel and purpose</h2>
{_bars(message_rows, percent=False, label="Messages") if message_rows else "<p>No messages.</p>"}
<h2>Conferences past their deadline</h2>
<table><tr><th>conference</th><th>kind</th><th>deadline</th><th>held</th><th>reason</th></tr>{late_rows}</table>
</body></html>
"""


def _family_views(views: dict[str, Any]) -> str:
    if not views.get("conferences"):
        return "<p>No conference was held in the period.</p>"
    return (f"<p><strong>{views['share']:.0%}</strong> of the {views['conferences']} conferences held in the period had "
            f"a parent's, carer's or child's own views in before the day, written on the form their invitation links to "
            f"({views['family_members']} family members wrote; {views['saves']} saves, counting changes).</p>")


def figure_rooms(figures: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(figures["room_use"], key=lambda r: -r["share"])
