"""A clock moved by a file, and its timers telling the simulation when they have looked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from cpc_shared.clock import OffsetFileClock, looks_since
from cpc_shared.service import Service
from cpc_shared.settings import ServiceSettings


def test_every_timer_must_have_looked_at_this_offset_in_a_look_begun_since(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("3600.0")
    clock = OffsetFileClock(str(path))
    assert looks_since(path, 3600.0, since=100.0) is None  # no timer says when it looks: nothing to wait for
    clock.looked("reports.raise_alerts", 3600.0, started=150.0)
    clock.looked("notifications.send_due", 3600.0, started=99.0)
    assert looks_since(path, 3600.0, since=100.0) is False  # one look began before
    clock.looked("notifications.send_due", 3600.0, started=101.0)
    assert looks_since(path, 3600.0, since=100.0) is True
    assert looks_since(path, 7200.0, since=100.0) is False  # the clock has moved since they looked
    assert not list(tmp_path.glob("*.new"))


async def _looks(tmp_path: Path, job) -> list[str]:
    path = tmp_path / "clock"
    path.write_text("60.5")
    settings = ServiceSettings(clock_offset_file=str(path), mongodb_url="mongodb://127.0.0.1:1/")

    async def prepare(db) -> None:
        pass

    service = Service("timing", settings, outbox_collections=[], prepare_store=prepare, description="a test")
    service.timer(0.01, job)
    task = asyncio.create_task(service._background[0]())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await service.client.close()
    return [p.read_text() for p in tmp_path.glob("clock.looked.*")]


async def test_a_timer_says_at_which_offset_it_looked_once_its_job_has_run(tmp_path: Path) -> None:
    ran: list[int] = []

    async def send_due() -> None:
        ran.append(1)

    said = await _looks(tmp_path, send_due)
    assert ran and len(said) == 1
    offset, started = (float(part) for part in said[0].split())
    assert offset == 60.5 and started > 0


async def test_a_timer_whose_job_failed_does_not_say_it_looked(tmp_path: Path) -> None:
    async def send_due() -> None:
        raise RuntimeError("store away")

    assert await _looks(tmp_path, send_due) == []
