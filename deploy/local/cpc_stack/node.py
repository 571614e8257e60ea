"""Node tools, at the exact versions in their package.json, installed on demand into the cache (no lock file,
nothing in the repository): AsyncAPI's own parser and generator for the partner catalogue
(deploy/local/asyncapi/<tool>/), and axe-core for the family's form's accessibility checks
(deploy/local/accessibility/)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from cpc_stack.paths import CACHE, REPO

TOOLS = REPO / "deploy" / "local" / "asyncapi"
ACCESSIBILITY = REPO / "deploy" / "local" / "accessibility"


def tools_dir(tool: str, source: Path = TOOLS) -> Path:
    """A directory with the packages `source/tool`'s package.json names, installed once per version of that file."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (Debian packages nodejs and npm; .ci/run installs them)")
    manifest = (source / tool / "package.json").read_bytes()
    home = CACHE / "node" / f"{tool}-{hashlib.sha256(manifest).hexdigest()[:12]}"
    if not (home / ".installed").exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_bytes(manifest)
        # The generator's dependencies include puppeteer (for PDFs, unused here): no browser download.
        subprocess.run([npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"], cwd=home,
                       check=True, timeout=900, env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"})
        (home / ".installed").touch()
    for script in (source / tool).glob("*.*js"):  # scripts resolve their packages from where they are
        shutil.copyfile(script, home / script.name)
    return home


def parse_asyncapi(document: Path) -> dict:
    """The official parser's verdict on a document: {"valid", "summary", "diagnostics"}."""
    home = tools_dir("parser")
    done = subprocess.run(["node", str(home / "validate.mjs"), str(document)], capture_output=True, text=True, timeout=120)
    if not done.stdout.strip():
        raise RuntimeError(f"the AsyncAPI parser did not answer: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def render_html(document: Path, out_dir: Path) -> Path:
    """The document as one HTML page, by AsyncAPI's generator with its HTML template: `<out_dir>/<name>.html`."""
    home = tools_dir("generator")
    out_dir.mkdir(parents=True, exist_ok=True)
    name = document.with_suffix(".html").name
    subprocess.run(["node", str(home / "render.cjs"), str(document), str(out_dir), name], check=True, timeout=600,
                   capture_output=True)
    return out_dir / name


def axe_core() -> Path:
    """axe-core's script for a browser page (inject it, then `axe.run()`): the version in
    deploy/local/accessibility/axe/package.json."""
    return tools_dir("axe", ACCESSIBILITY) / "node_modules" / "axe-core" / "axe.min.js"
