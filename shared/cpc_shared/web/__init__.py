"""Browser libraries the system serves itself (the browser loads nothing from the internet): each library's one
minified file, vendored with its licence under `vendor/` (see vendor/README.md for the versions and why)."""

from __future__ import annotations

from pathlib import Path

VENDOR = Path(__file__).parent / "vendor"
DRAW_SCRIPT = Path(__file__).parent / "charts.js"  # draws each <canvas data-chart> with Chart.js
SCRIPTS = {"chart.umd.min.js": VENDOR / "chart.js" / "chart.umd.min.js", "htmx.min.js": VENDOR / "htmx" / "htmx.min.js"}


def vendored_script(name: str) -> bytes:
    """One vendored library's file, by its file name (`chart.umd.min.js`, `htmx.min.js`)."""
    return SCRIPTS[name].read_bytes()
