"""The reports API: agencies see and send their own reports; the chair sees each conference's reports, the
family's views first; and the family's form (family/form.py).

(No `from __future__ import annotations` here: FastAPI reads the dependencies from the annotations.)"""

from typing import Annotated, Any

from cpc_shared.http import Identity, authenticator
from fastapi import Depends, FastAPI, File, HTTPException, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from cpc_reports import handlers
from cpc_reports.domain.files import RejectedFile
from cpc_reports.domain.report import Refused, ReportRequest, ReportStatus
from cpc_reports.family.form import family_router
from cpc_reports.family.limits import RateLimit
from cpc_reports.handlers import Reports

VISIBLE = ("conference_id", "agency", "author_role", "status", "due_at", "share_with_family_by",
           "conference_starts_at", "late", "overdue_raised_at")


def view(report: ReportRequest) -> dict[str, Any]:
    versions = [version.model_dump(exclude={"file_id", "by"}) for version in report.versions]
    state = report.state()
    return {"report_id": report.id, **{field: state.get(field) for field in VISIBLE}, "versions": versions}


def build_api(desk: Reports, token_secret: str, form_limits: tuple[RateLimit, RateLimit]) -> FastAPI:
    api = FastAPI(title="Child protection conferences: reports", version="1",
                  openapi_url="/api/openapi.json", docs_url="/api/docs", redoc_url=None)
    api.include_router(family_router(desk, *form_limits))
    agency_user = authenticator(token_secret, {"agency"})
    staff = authenticator(token_secret, {"chair", "coordinator", "manager"})

    @api.exception_handler(Refused)
    @api.exception_handler(RejectedFile)
    async def refused(_request: Any, error: Any) -> JSONResponse:
        return JSONResponse({"detail": error.reason}, status_code=error.status)

    def own_agency(who: Identity) -> str:
        if not who.agency:
            raise HTTPException(403, "the token names no agency")
        return who.agency

    @api.get("/api/reports", summary="Your agency's report requests")
    async def mine(who: Annotated[Identity, Depends(agency_user)]) -> list[dict[str, Any]]:
        found = await desk.reports.find({"agency": own_agency(who), "status": {"$ne": ReportStatus.WITHDRAWN.value}})
        return [view(report) for report in sorted(found, key=lambda report: report.due_at)]

    @api.get("/api/reports/{report_id}", summary="One of your agency's report requests")
    async def one(report_id: str, who: Annotated[Identity, Depends(agency_user)]) -> dict[str, Any]:
        report = await desk.reports.get(report_id)
        if report is None or report.agency != own_agency(who):
            raise HTTPException(404, f"no report request {report_id} for your agency")
        return view(report)

    @api.post("/api/reports/{report_id}/submissions", status_code=201,
              summary="Send the report (PDF or Word); sending again keeps the earlier version")
    async def submit(report_id: str, who: Annotated[Identity, Depends(agency_user)],
                     file: Annotated[UploadFile, File(description="the report, PDF or Word")]) -> dict[str, Any]:
        content = await file.read(desk.max_bytes + 1)
        version = await handlers.submit(report_id, own_agency(who), file.filename or "report", content,
                                        who.subject, desk)
        return {"report_id": report_id, "version": version.version, "late": version.late,
                "content_type": version.content_type}

    @api.get("/api/conferences/{conference_id}/reports",
             summary="For the chair: what the family said on their form first, then every agency's report")
    async def for_conference(conference_id: str, _: Annotated[Identity, Depends(staff)]) -> dict[str, Any]:
        reports = await desk.reports.find({"conference_id": conference_id})
        if not reports:
            raise HTTPException(404, f"no reports for conference {conference_id}")
        return {"conference_id": conference_id, "family_views": await handlers.family_views_for(conference_id, desk),
                "complete": all(r.status != ReportStatus.REQUESTED for r in reports),
                "reports": [view(report) for report in sorted(reports, key=lambda report: report.agency)]}

    @api.get("/api/conference-reports",
             summary="For the team's dashboard: each conference's reports in, late, missing or awaited, and whether "
                     "the family's views are in (who and when, not what they wrote)")
    async def standings(_: Annotated[Identity, Depends(staff)],
                        conference_id: Annotated[list[str], Query(max_length=300)]) -> list[dict[str, Any]]:
        now = desk.clock.now()
        found = await desk.reports.find({"conference_id": {"$in": conference_id}})
        result = []
        for cid in dict.fromkeys(conference_id):
            reports = sorted((r for r in found if r.conference_id == cid), key=lambda report: report.agency)
            counts = dict.fromkeys(("in", "late", "missing", "awaited"), 0)
            for report in reports:
                if (standing := report.standing(now)) is not None:
                    counts[standing] += 1
            result.append({"conference_id": cid, "known": bool(reports), "reports": counts,
                           "missing": [r.agency for r in reports if r.standing(now) == "missing"],
                           "family_views": await handlers.family_views_for(cid, desk, opened=False)})
        return result

    @api.get("/api/conferences/{conference_id}/family-views",
             summary="For the chair: what each parent, carer and child wrote before the conference")
    async def family_views(conference_id: str, _: Annotated[Identity, Depends(staff)]) -> dict[str, Any]:
        if await desk.conferences.get(conference_id) is None:
            raise HTTPException(404, f"no conference {conference_id} known to reports")
        return {"conference_id": conference_id, "family_views": await handlers.family_views_for(conference_id, desk)}

    @api.get("/api/conferences/{conference_id}/reports/{report_id}/versions/{version}",
             summary="Download one version of a report, for the chair")
    async def download(conference_id: str, report_id: str, version: int,
                       _: Annotated[Identity, Depends(staff)]) -> Response:
        entry, content = await handlers.read_version(report_id, version, desk)
        return Response(content, media_type=entry.content_type)

    return api
