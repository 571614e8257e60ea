"""The four services, each a separate process with its own health endpoints."""

from __future__ import annotations

import sys
import urllib.request

from cpc_stack import infra, processes
from cpc_stack.paths import REPO

SERVICES = {"scheduling": 8101, "rooms": 8102, "reports": 8103, "notifications": 8104}


def service_env(endpoints: infra.Endpoints, name: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **endpoints.env(),
        "CPC_HTTP_PORT": str(SERVICES[name]),
        "CPC_CONTACT_KEY": infra.contact_key(),
        "CPC_STAFF_TOKEN_SECRET": infra.staff_token_secret(),
        **(extra or {}),
    }


def is_ready(name: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{SERVICES[name]}/health/ready", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def start(endpoints: infra.Endpoints, names: list[str] | None = None, extra_env: dict[str, str] | None = None) -> None:
    names = names or list(SERVICES)
    for name in names:
        processes.start(
            name, [sys.executable, "-m", f"cpc_{name}"], env=service_env(endpoints, name, extra_env), cwd=REPO
        )
    for name in names:
        processes.wait_until(lambda: is_ready(name), f"the {name} service", 60, name)
        infra.say(f"{name} ready on http://127.0.0.1:{SERVICES[name]} (health: /health/live, /health/ready; /asyncapi)")


def stop(names: list[str] | None = None) -> None:
    for name in names or list(SERVICES):
        if processes.stop(name):
            infra.say(f"stopped {name}")
