"""Reports on the running stack: agencies send theirs over HTTP, see only their own; missing reports are
overdue exactly once, with two reports processes and one killed around the due time."""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime

import httpx
import pytest
from cpc_shared.http import issue_token
from cpc_stack import infra, processes, services

from tests.conftest import schedule

pytestmark = pytest.mark.e2e
API = services.api("reports")


def agency(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject=f'{name}-user', role='agency', agency=name)}"}


def word_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def requested_reports(watcher, endpoints, **overrides):
    _, conference = await schedule(watcher, endpoints, **overrides)
    cid = conference["conference_id"]
    assert await watcher.until(lambda: len(watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)) == 4, 30)
    return conference, {r.data["agency"]: r.data for r in watcher.of_type("cpc.ReportRequested.v1", conference_id=cid)}


async def test_an_agency_sends_its_report_and_only_its_own(running_services, watcher):
    conference, reports = await requested_reports(watcher, running_services)
    cid = conference["conference_id"]
    mine = next(a for a in reports if a != "childrens_social_care")
    other = next(a for a in reports if a not in ("childrens_social_care", mine))
    report_id = reports[mine]["report_id"]
    async with httpx.AsyncClient() as http:
        listed = (await http.get(f"{API}/reports", headers=agency(mine))).json()
        assert report_id in [r["report_id"] for r in listed] and {r["agency"] for r in listed} == {mine}
        assert (await http.get(f"{API}/reports/{report_id}", headers=agency(other))).status_code == 404
        replace = await http.post(f"{API}/reports/{report_id}/submissions", headers=agency(other),
                                  files={"file": ("r.pdf", b"%PDF-1.7 not yours", "application/pdf")})
        assert replace.status_code == 404
        for content, status, words in [(b"", 422, "empty"), (b"GIF89a...", 415, "PDF or Word"),
                                       (b"%PDF-" + b"x" * (10 * 1024 * 1024), 413, "larger than")]:
            refused = await http.post(f"{API}/reports/{report_id}/submissions", headers=agency(mine),
                                      files={"file": ("report.pdf", content, "application/pdf")})
            assert refused.status_code == status and words in refused.json()["detail"]
        assert (await http.post(f"{API}/reports/RPT-NOPE/submissions", headers=agency(mine),
                                files={"file": ("r.pdf", b"%PDF-1", "application/pdf")})).status_code == 404
        first = await http.post(f"{API}/reports/{report_id}/submissions", headers=agency(mine),
                                files={"file": ("report.pdf", b"%PDF-1.7 first", "application/pdf")})
        assert first.status_code == 201 and first.json()["version"] == 1 and first.json()["late"] is False
        second = await http.post(f"{API}/reports/{report_id}/submissions", headers=agency(mine),
                                 files={"file": ("report.docx", word_document(), "application/octet-stream")})
        assert second.json()["version"] == 2
        detail = (await http.get(f"{API}/reports/{report_id}", headers=agency(mine))).json()
        assert [v["content_type"] for v in detail["versions"]] == [
            "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
        chair = {"Authorization": f"Bearer {issue_token(infra.staff_token_secret(), subject='c', role='chair', chair_id=conference['chair_id'])}"}
        first_version = await http.get(f"{API}/conferences/{cid}/reports/{report_id}/versions/1", headers=chair)
        assert first_version.content == b"%PDF-1.7 first"
        overview = (await http.get(f"{API}/conferences/{cid}/reports", headers=chair)).json()
        assert not overview["complete"]
        assert (await http.get(f"{API}/conferences/{cid}/reports", headers=agency(mine))).status_code == 403
        for other_agency, report in reports.items():
            if other_agency != mine:
                await http.post(f"{API}/reports/{report['report_id']}/submissions", headers=agency(other_agency),
                                files={"file": ("r.pdf", b"%PDF-1.4 report", "application/pdf")})
    assert await watcher.until(lambda: len(watcher.of_type("cpc.ReportSubmitted.v1", conference_id=cid)) == 5, 30)
    assert await watcher.until(lambda: bool(watcher.of_type("cpc.ReportsComplete.v1", conference_id=cid)), 30)
    assert sorted(watcher.of_type("cpc.ReportsComplete.v1", conference_id=cid)[0].data["report_ids"]) == \
        sorted(r["report_id"] for r in reports.values())


async def test_a_missing_report_is_overdue_exactly_once_across_two_replicas_and_a_kill(
        running_services, service_env, clock_offset_file, watcher):
    services.start(running_services, ["reports-2"], extra_env=service_env)
    try:
        conference, reports = await requested_reports(watcher, running_services)
        cid = conference["conference_id"]
        latest_due = max(datetime.fromisoformat(r["due_at"]) for r in reports.values())
        # Move every service's clock to a minute before the last report falls due ...
        offset = (latest_due - datetime.now(UTC)).total_seconds() - 60
        clock_offset_file.write_text(str(offset))
        await asyncio.sleep(1)
        processes.kill("reports")  # ... kill one replica around the due time, and move past it.
        clock_offset_file.write_text(str(offset + 120))
        await asyncio.sleep(2)
        services.start(running_services, ["reports"], extra_env=service_env)

        def overdue():
            return watcher.of_type("cpc.ReportOverdue.v1", conference_id=cid)

        assert await watcher.until(lambda: len({o.data["report_id"] for o in overdue()}) == 4, 60)
        await watcher.until(lambda: False, timeout=5)
        assert len({o.headers["ce_id"] for o in overdue()}) == 4, "one ReportOverdue per missing report"
        assert {o.data["report_id"] for o in overdue()} == {r["report_id"] for r in reports.values()}
    finally:
        services.stop(["reports-2"])
        clock_offset_file.write_text("0")
