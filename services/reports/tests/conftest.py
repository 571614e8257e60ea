"""The reports service's handlers wired to in-memory fakes (no database), for the service-layer tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cpc_reports.domain.family_views import FamilyViews
from cpc_reports.domain.report import Alert, ConferenceReports, ReportRequest
from cpc_reports.handlers import Reports
from cpc_shared.clock import FixedClock
from cpc_shared.fakes import InMemoryStore, RecordingRelay
from cpc_shared.family_link import FamilyLinks
from cpc_shared.profile import load_profile
from cpc_shared.repository import Repository
from cpc_shared.sealing import Seal
from cryptography.fernet import Fernet

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "essex-2020.yaml")


class InMemoryFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, filename: str, content: bytes, metadata: dict[str, Any]) -> str:
        file_id = uuid.uuid4().hex
        self.files[file_id] = content
        return file_id

    async def read(self, file_id: Any) -> bytes:
        return self.files[file_id]

    async def delete(self, file_id: Any) -> None:
        del self.files[file_id]


@pytest.fixture
def desk() -> Reports:
    """The reports desk on 1 April 2020, 09:00 UTC (Essex's profile)."""
    store, relay = InMemoryStore(), RecordingRelay()
    return Reports(reports=Repository(store, ReportRequest, relay), conferences=Repository(store, ConferenceReports, relay),
                   alerts=Repository(store, Alert, relay), files=InMemoryFiles(), profile=PROFILE,
                   calendar=PROFILE.calendar(), clock=FixedClock(datetime(2020, 4, 1, 9, 0, tzinfo=UTC)),
                   max_bytes=1024 * 1024, family_views=Repository(store, FamilyViews, relay),
                   seal=Seal(Fernet.generate_key().decode()), links=FamilyLinks(Fernet.generate_key().decode()))
