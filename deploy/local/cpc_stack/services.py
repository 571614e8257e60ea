"""The five services, each a separate process with its own health endpoints; more replicas on request."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from cpc_stack import infra, processes
from cpc_stack.paths import PORT_OFFSET, REPO

SERVICES = {name: port + PORT_OFFSET for name, port in {"scheduling": 8101, "rooms": 8102, "reports": 8103, "notifications": 8104,
                                                              "partners": 8105}.items()}
REPLICA_PORT_BASE = 8110 + PORT_OFFSET  # replica 2 of rooms: 8112; replica 3: 8113 ...


def port_of(instance: str) -> int:
    """`rooms` is the first replica; `rooms-2`, `rooms-3`... are more replicas of the same service."""
    service, _, replica = instance.partition("-")
    if not replica:
        return SERVICES[service]
    return REPLICA_PORT_BASE + 10 * list(SERVICES).index(service) + int(replica)


def api(service: str) -> str:
    """The base URL of a service's HTTP API on the local stack."""
    return f"http://127.0.0.1:{SERVICES[service]}/api"


def service_env(endpoints: infra.Endpoints, instance: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **endpoints.env(),
        "CPC_HTTP_PORT": str(port_of(instance)),
        "CPC_CONTACT_KEY": infra.contact_key(),
        "CPC_STAFF_TOKEN_SECRET": infra.staff_token_secret(),
        "CPC_FAMILY_LINK_KEY": infra.family_link_key(),
        "CPC_FAMILY_FORM_BASE_URL": f"http://127.0.0.1:{SERVICES['reports']}",  # the family's form: their link
        # the dashboard (scheduling) reads reports' and rooms' facts from their staff APIs
        "CPC_REPORTS_URL": f"http://127.0.0.1:{SERVICES['reports']}", "CPC_ROOMS_URL": f"http://127.0.0.1:{SERVICES['rooms']}",
        **(extra or {}),
    }


def is_ready(instance: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port_of(instance)}/health/ready", timeout=2) as response:
            return response.status == 200
    except Exception:
        return False


def start(endpoints: infra.Endpoints, instances: list[str] | None = None, extra_env: dict[str, str] | None = None) -> None:
    instances = instances or list(SERVICES)
    for instance in instances:
        module = f"cpc_{instance.partition('-')[0]}"
        processes.start(instance, [sys.executable, "-m", module], env=service_env(endpoints, instance, extra_env), cwd=REPO)
    for instance in instances:
        processes.wait_until(lambda instance=instance: is_ready(instance), f"the {instance} service", 60, instance)
        port = port_of(instance)
        infra.say(f"{instance} ready on http://127.0.0.1:{port} (health: /health/live, /health/ready; /asyncapi.json)")


def peak_resident_mb(instances: list[str] | None = None) -> dict[str, float]:
    """Each running service's peak resident memory so far (the kernel's VmHWM), in MB."""
    peaks = {}
    for instance in instances or list(SERVICES):
        pid = processes.pid_of(instance)
        if pid is None:
            continue
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
        if kb is not None:
            peaks[instance] = kb / 1024
    return peaks


def stop(instances: list[str] | None = None) -> None:
    running = [name for name in processes.running() if name.partition("-")[0] in SERVICES]
    for instance in processes.stop_all(instances or running):
        infra.say(f"stopped {instance}")
