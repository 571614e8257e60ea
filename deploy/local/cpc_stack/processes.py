"""Start, find and stop background processes by pid file, so every command is safe to re-run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cpc_stack.paths import LOGS, PIDS


def pid_of(name: str) -> int | None:
    path = PIDS / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        path.unlink(missing_ok=True)
        return None
    return pid


def cpu_seconds(names: list[str]) -> dict[str, float]:
    """The CPU time (user and system, from /proc) each named process still running has used since it started."""
    used = {}
    for name in names:
        pid = pid_of(name)
        try:
            # after the command's name, in parentheses: the state is field 3, utime field 14, stime field 15
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split() if pid else None
        except OSError:
            continue
        if fields:
            used[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def running() -> list[str]:
    """Names of the processes this checkout started that are still running."""
    return sorted(path.stem for path in PIDS.glob("*.pid") if pid_of(path.stem)) if PIDS.exists() else []


def start(name: str, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    """Start `argv` in its own session with output to logs/<name>.log; reuse it if already running."""
    running = pid_of(name)
    if running:
        return running
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "ab") as log:
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, cwd=cwd, start_new_session=True,
        )
    (PIDS / f"{name}.pid").write_text(str(process.pid))
    return process.pid


def stop(name: str, timeout: float = 20.0) -> bool:
    """Stop gracefully (SIGTERM), then forcefully after `timeout`. True if something was running."""
    return bool(stop_all([name], timeout))


def stop_all(names: list[str], timeout: float = 20.0) -> list[str]:
    """Stop these together: SIGTERM to each, then wait for all (each takes seconds to leave its consumer
    groups; one after another, four services took ~12 s). Those still running after `timeout` are killed."""
    pids = {name: pid for name in names if (pid := pid_of(name)) is not None}
    for pid in pids.values():
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids.values()):
        time.sleep(0.1)
    for name, pid in pids.items():
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        (PIDS / f"{name}.pid").unlink(missing_ok=True)
    return list(pids)


def kill(name: str) -> None:
    """SIGKILL, as a crash would (tests of recovery)."""
    pid = pid_of(name)
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)
        (PIDS / f"{name}.pid").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
        if finished == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(check: Callable[[], bool], what: str, timeout: float, name: str | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if name and pid_of(name) is None:
            raise RuntimeError(f"{what} exited while starting; see {LOGS / (name + '.log')}")
        time.sleep(0.3)
    raise RuntimeError(f"{what} did not answer within {timeout:.0f}s" + (f"; see {LOGS / (name + '.log')}" if name else ""))
