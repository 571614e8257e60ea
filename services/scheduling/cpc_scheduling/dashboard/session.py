"""Signing in to the dashboard: the user pastes their staff token (`./dev token` locally, the council's identity
provider in production) and it is kept in an HttpOnly, SameSite=Strict cookie (Secure over HTTPS), valid as long
as the token. Each form carries a CSRF token derived from it, and a POST from another origin is refused."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from cpc_shared.http import Identity, identify_token
from fastapi import HTTPException, Request, Response

COOKIE = "cpc_dashboard"
STAFF = {"chair", "coordinator", "manager"}


class SignedIn:
    def __init__(self, identity: Identity, token: str, secret: str) -> None:
        self.identity, self.token = identity, token
        self.csrf = csrf_token(secret, token)

    def may_change(self, chair_id: str | None) -> bool:
        """As the scheduling API allows (docs/domain.md, who may move a conference): the conference's chair, or a
        manager; a coordinator sees everything and changes nothing here."""
        return self.identity.role == "manager" or (self.identity.role == "chair" and chair_id == self.identity.chair_id)


def csrf_token(secret: str, token: str) -> str:
    return hmac.new(secret.encode(), b"dashboard-csrf|" + token.encode(), hashlib.sha256).hexdigest()


def signed_in(request: Request, secret: str) -> SignedIn | None:
    """Who is signed in, or None (no cookie, or a token no longer valid)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return SignedIn(identify_token(secret, token, STAFF), token, secret)
    except HTTPException:
        return None


def sign_in(request: Request, secret: str, token: str, response: Response) -> Identity:
    """Keep a valid staff token in the cookie; HTTPException 401/403 (with the reason) otherwise."""
    identity = identify_token(secret, token, STAFF)
    seconds = int((identity.expires - datetime.now(UTC)).total_seconds()) if identity.expires else 8 * 3600
    response.set_cookie(COOKIE, token, max_age=max(seconds, 0), path="/dashboard", httponly=True, samesite="strict",
                        secure=is_https(request))
    return identity


def sign_out(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path="/dashboard", httponly=True, samesite="strict", secure=is_https(request))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0] == "https"


def same_origin(request: Request) -> bool:
    """A POST's Origin (browsers send it) must be this site's own; a request without one (not a browser) passes
    to the CSRF check."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


def csrf_ok(form: dict[str, str], session: SignedIn) -> bool:
    return hmac.compare_digest(form.get("csrf", ""), session.csrf)
