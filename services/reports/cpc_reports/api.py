"""The reports API: agencies see and send their own reports; the chair sees each conference's reports.

(No `from __future__ import annotations` here: FastAPI reads the dependencies from the annotations.)"""

import asyncio
from typing import Annotated, Any

from cpc_shared.http import Identity, authenticator
from cpc_shared.store import find_where
from fastapi import Depends, FastAPI, File, HTTPException, UploadFile
from fastapi.responses import JSONResponse, Response

from cpc_reports.desk import NotAllowed, ReportsDesk
from cpc_reports.domain.files import RejectedFile

VISIBLE = ("conference_id", "agency", "author_role", "status", "due_at", "share_with_family_by",
           "conference_starts_at", "late", "overdue_raised_at")


def build_api(desk: ReportsDesk, token_secret: str, serial: asyncio.Lock) -> FastAPI:
    api = FastAPI(title="Child protection conferences: reports", version="1",
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    agency_user = authenticator(token_secret, {"agency"})
    staff = authenticator(token_secret, {"chair", "coordinator", "manager"})

    @api.exception_handler(NotAllowed)
    @api.exception_handler(RejectedFile)
    async def refused(_request: Any, error: Any) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    def view(report: dict[str, Any]) -> dict[str, Any]:
        versions = [{k: v for k, v in entry.items() if k not in ("file_id", "by")} for entry in report["versions"]]
        return {"report_id": report["_id"], **{k: report.get(k) for k in VISIBLE}, "versions": versions}

    def own_agency(who: Identity) -> str:
        if not who.agency:
            raise HTTPException(403, "the token names no agency")
        return who.agency

    @api.get("/api/reports", summary="Your agency's report requests")
    async def mine(who: Annotated[Identity, Depends(agency_user)]) -> list[dict[str, Any]]:
        found = desk.reports.find({"agency": own_agency(who), "status": {"$ne": "withdrawn"}}, {"outbox": 0})
        return sorted([view(r) async for r in found], key=lambda r: r["due_at"])

    @api.get("/api/reports/{report_id}", summary="One of your agency's report requests")
    async def one(report_id: str, who: Annotated[Identity, Depends(agency_user)]) -> dict[str, Any]:
        report = await find_where(desk.reports, report_id, {"agency": own_agency(who)}, {"outbox": 0})
        if report is None:
            raise HTTPException(404, f"no report request {report_id} for your agency")
        return view(report)

    @api.post("/api/reports/{report_id}/submissions", status_code=201,
              summary="Send the report (PDF or Word); sending again keeps the earlier version")
    async def submit(report_id: str, who: Annotated[Identity, Depends(agency_user)],
                     file: Annotated[UploadFile, File(description="the report, PDF or Word")]) -> dict[str, Any]:
        content = await file.read(desk.max_bytes + 1)
        async with serial:
            return await desk.submit(report_id, own_agency(who), file.filename or "report", content, who.subject)

    @api.get("/api/conferences/{conference_id}/reports", summary="Every report for a conference, for the chair")
    async def for_conference(conference_id: str, _: Annotated[Identity, Depends(staff)]) -> dict[str, Any]:
        reports = [view(r) async for r in desk.reports.find({"conference_id": conference_id}, {"outbox": 0})]
        if not reports:
            raise HTTPException(404, f"no reports for conference {conference_id}")
        states = [r["status"] for r in reports]
        return {"conference_id": conference_id, "complete": all(s != "requested" for s in states if s != "withdrawn"),
                "reports": sorted(reports, key=lambda r: r["agency"])}

    @api.get("/api/conferences/{conference_id}/reports/{report_id}/versions/{version}",
             summary="Download one version of a report, for the chair")
    async def download(conference_id: str, report_id: str, version: int,
                       _: Annotated[Identity, Depends(staff)]) -> Response:
        entry, content = await desk.download(report_id, version)
        return Response(content, media_type=entry["content_type"])

    return api
