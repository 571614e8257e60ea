"""Charts for the browser, drawn by Chart.js (vendored): each chart is a config, the same for the dashboard and the
simulation's report, put in a <canvas data-chart="..."> that charts.js draws."""

from __future__ import annotations

import html
import json
from typing import Any

from cpc_shared.web import DRAW_SCRIPT, vendored_script

# GOV.UK's palette: distinguishable, with contrast on white.
COLOURS = ("#1d70b8", "#f47738", "#00703c", "#912b88", "#d4351c", "#5694ca", "#85994b", "#6f72af", "#b58840",
           "#505a5f")
REFERENCE = "#0b0c0c"


def bar_chart(labels: list[str], series: dict[str, list[float]], *, percent: bool = False, stacked: bool = False,
              horizontal: bool = False, reference: tuple[str, float] | None = None,
              colours: dict[str, str] | None = None) -> dict[str, Any]:
    """A bar chart's config: one dataset per series (stacked if asked), and an optional reference value drawn as
    a dashed line across every bar (e.g. England's 81.4%)."""
    datasets: list[dict[str, Any]] = [
        {"type": "bar", "label": name, "data": values,
         "backgroundColor": (colours or {}).get(name, COLOURS[n % len(COLOURS)])}
        for n, (name, values) in enumerate(series.items())]
    if reference:
        datasets.append({"type": "line", "label": reference[0], "data": [reference[1]] * len(labels),
                         "borderColor": REFERENCE, "borderDash": [6, 4], "borderWidth": 2, "pointRadius": 0,
                         "fill": False})
    value_axis: dict[str, Any] = {"beginAtZero": True, "stacked": stacked}
    if percent:
        value_axis["max"] = 100
    else:  # counts: whole numbers on the axis
        value_axis["ticks"] = {"precision": 0}
    category_axis = {"stacked": stacked}
    return {"type": "bar", "percent": percent, "data": {"labels": labels, "datasets": datasets},
            "options": {"animation": False, "responsive": True, "maintainAspectRatio": False,
                        "indexAxis": "y" if horizontal else "x",
                        "scales": {"x": value_axis if horizontal else category_axis,
                                   "y": category_axis if horizontal else value_axis},
                        "plugins": {"legend": {"display": len(datasets) > 1}}}}


def canvas(config: dict[str, Any], label: str, size: str = "medium") -> str:
    """The chart's markup: a canvas, named for screen readers, in a box whose height the page's style sheet sets
    (`.chart-box.<size>`; no style attribute, so a strict Content-Security-Policy holds)."""
    return (f'<div class="chart-box {size}"><canvas class="chart" role="img" aria-label="{html.escape(label)}" '
            f'data-chart="{html.escape(json.dumps(config))}"></canvas></div>')


def inline_scripts() -> str:
    """Chart.js and the drawing script inline, for a self-contained HTML file (the simulation's report)."""
    return (f"<script>{vendored_script('chart.umd.min.js').decode()}</script>\n"
            f"<script>{DRAW_SCRIPT.read_text()}</script>")
