"""The family's form over HTTP: `GET /family/<token>` shows it with what they saved before; `POST` saves it.

Plain HTML, no script: it works in any browser, with a keyboard or a screen reader. A refusal is a page in the
family's language with a 4xx status that says what to do next; never a stack trace. Every page is kept out of
caches and search engines, sends no referrer (the link is their key) and may not be framed.

(No `from __future__ import annotations` here: FastAPI reads the parameters from the annotations.)"""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from cpc_shared.family_link import BadLink
from cpc_shared.languages import long_date
from cpc_shared.logging import get_logger
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cpc_reports import handlers
from cpc_reports.domain.family_views import MAX_ANSWER_CHARS, MAX_FORM_BYTES, questions_for
from cpc_reports.domain.report import Refused
from cpc_reports.family.limits import RateLimit
from cpc_reports.family.words import LANGUAGES, language_of, question, words
from cpc_reports.handlers import FamilyForm, Reports

log = get_logger(__name__)
HERE = Path(__file__).parent
PAGES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
STYLE = (HERE / "static" / "form.css").read_bytes()
HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY", "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
}


def family_router(desk: Reports, per_link: RateLimit, per_address: RateLimit) -> APIRouter:
    router = APIRouter(prefix="/family", include_in_schema=False)

    @router.get("/static/form.css")
    async def style() -> Response:
        return Response(STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @router.get("/{token}")
    async def show(token: str, request: Request, saved: str = "", lang: str | None = None) -> Response:
        if (limited := _limited(token, request, lang)) is not None:
            return limited
        try:
            form = await handlers.family_form(token, desk)
        except (BadLink, Refused) as refusal:
            return _refused(refusal, lang or _language(token))
        return _form_page(form, token, lang, saved=saved == "1" and form.saved_at is not None)

    @router.post("/{token}")
    async def save(token: str, request: Request, lang: str | None = None) -> Response:
        if (limited := _limited(token, request, lang)) is not None:
            return limited
        body = await _body(request)
        if body is None:
            language = lang or _language(token)
            return _message(words(language)["too_big"], language, 413, back=_href(token, lang))
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}
        try:
            await handlers.save_family_views(token, form, desk)
        except (BadLink, Refused) as refusal:
            if isinstance(refusal, Refused) and refusal.status == 413:  # one answer too long: show it, keep their words
                current = await handlers.family_form(token, desk)
                return _form_page(current, token, lang, entered=form, too_long=refusal.reason, status=413)
            return _refused(refusal, lang or _language(token))
        return RedirectResponse(_href(token, lang, saved=1), status_code=303, headers=HEADERS)

    def _language(token: str) -> str:
        """The family's language, for a page that refuses them (English if the link itself is bad)."""
        try:
            return desk.links.read(token, desk.clock.now()).language
        except BadLink:
            return "en"

    def _limited(token: str, request: Request, lang: str | None) -> Response | None:
        address = request.client.host if request.client else "unknown"
        for limit, key in ((per_address, address), (per_link, token)):
            if not limit.allow(key):
                minutes = -(-limit.retry_after(key) // 60)
                log.warning("family_form_rate_limited", by="link" if limit is per_link else "address")
                language = lang or _language(token)
                return _message(words(language)["too_many"].format(minutes=minutes), language, 429,
                                headers={"Retry-After": str(limit.retry_after(key))})
        return None

    return router


async def _body(request: Request) -> bytes | None:
    """The form's bytes, or None when it is bigger than any form of ours could be (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return bytes(body)


def _href(token: str, lang: str | None, **query: Any) -> str:
    params = {**query, **({"lang": language_of(lang)} if lang else {})}
    return f"/family/{token}" + (f"?{urlencode(params)}" if params else "")


def _others(token: str | None, language: str) -> list[tuple[str, str, str]]:
    if token is None:
        return []
    return [(code, name, _href(token, code)) for code, (name, _, _) in LANGUAGES.items() if code != language]


def _render(template: str, status: int, headers: dict[str, str] | None = None, **values: Any) -> HTMLResponse:
    return HTMLResponse(PAGES.get_template(template).render(**values), status_code=status,
                        headers={**HEADERS, **(headers or {})})


def _form_page(form: FamilyForm, token: str, lang: str | None, *, saved: bool = False,
               entered: dict[str, str] | None = None, too_long: str | None = None, status: int = 200) -> HTMLResponse:
    language = language_of(lang or form.language)
    w, role = words(language), form.writer.role
    closes = long_date(form.writer.closes_at.date() - timedelta(days=1), language)
    conference_day = long_date(form.writer.closes_at.date(), language)
    errors: dict[str, str] = {}
    questions = []
    for key in questions_for(role):
        label, hint = question(language, key, role)
        error = w["too_long"].format(question=label, limit=f"{MAX_ANSWER_CHARS:,}") if key == too_long else None
        if error:
            errors[key] = error
        questions.append({"key": key, "label": label, "hint": hint, "error": error,
                          "value": (entered if entered is not None else form.answers).get(key, "")})
    when = _moment(form.saved_at.astimezone(form.writer.closes_at.tzinfo), language) if form.saved_at else ""
    return _render("form.html", status, lang=language, w=w, others=_others(token, language), errors=errors,
                   saved=saved, saved_body=w["saved_body"].format(when=when, closes=closes),
                   title=w["title_child" if role == "child" else "title"],
                   lead=w["lead_child" if role == "child" else "lead"].format(day=conference_day),
                   until=w["until"].format(closes=closes), questions=questions, action=_href(token, lang),
                   limit=MAX_ANSWER_CHARS, limit_text=w["limit"].format(limit=f"{MAX_ANSWER_CHARS:,}"))


def _refused(refusal: BadLink | Refused, lang: str | None) -> HTMLResponse:
    if isinstance(refusal, BadLink):
        key, status = ("expired" if "expired" in refusal.reason else "bad_link"), 404
    else:
        key, status = refusal.reason, refusal.status
    language = lang or "en"
    return _message(words(language).get(key, words(language)["broken"]), language, status)


def _message(message: str, lang: str, status: int, *, back: str | None = None,
             headers: dict[str, str] | None = None) -> HTMLResponse:
    language = language_of(lang)
    return _render("message.html", status, headers, lang=language, w=words(language), message=message, back=back,
                   others=[])


def _moment(at: datetime, language: str) -> str:
    return f"{long_date(at.date(), language, year=False)}, {at.strftime('%H:%M')}"
