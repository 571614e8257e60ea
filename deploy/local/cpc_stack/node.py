"""Node tools for the partner catalogue: AsyncAPI's own parser (and generator), at the exact versions in
deploy/local/asyncapi/package.json, installed on demand into the cache (no lock file, nothing in the repository)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

from cpc_stack.paths import CACHE, REPO

TOOLS = REPO / "deploy" / "local" / "asyncapi"


def tools_dir(package: str = "package.json") -> Path:
    """A directory with the tools the package file names, installed once per version of that file."""
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not installed (Debian packages nodejs and npm; .ci/run installs them)")
    manifest = (TOOLS / package).read_bytes()
    home = CACHE / "node" / hashlib.sha256(manifest).hexdigest()[:12]
    if not (home / ".installed").exists():
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_bytes(manifest)
        subprocess.run([npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=home, check=True, timeout=900)
        (home / ".installed").touch()
    for script in TOOLS.glob("*.mjs"):  # scripts resolve their packages from where they are
        shutil.copyfile(script, home / script.name)
    return home


def parse_asyncapi(document: Path) -> dict:
    """The official parser's verdict on a document: {"valid", "summary", "diagnostics"}."""
    home = tools_dir()
    done = subprocess.run(["node", str(home / "validate.mjs"), str(document)], capture_output=True, text=True, timeout=120)
    if not done.stdout.strip():
        raise RuntimeError(f"the AsyncAPI parser did not answer: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
