"""HTTP APIs beside the event handlers: who is calling (signed bearer tokens), and mounting under /api.

Tokens are JWTs (PyJWT) signed by the council's identity provider, or locally by `./dev token`.
Claims: `sub` (the person), `role` (chair, coordinator, manager, agency), and `chair_id` or `agency`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError

Role = Literal["chair", "coordinator", "manager", "agency"]
AUDIENCE = "cpc"


class Identity(BaseModel):
    subject: str
    role: Role
    chair_id: str | None = None
    agency: str | None = None
    expires: datetime | None = None


def issue_token(secret: str, *, subject: str, role: Role, chair_id: str | None = None, agency: str | None = None,
                valid_for: timedelta = timedelta(hours=8)) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": subject, "role": role, "aud": AUDIENCE, "iat": now, "exp": now + valid_for}
    if chair_id:
        claims["chair_id"] = chair_id
    if agency:
        claims["agency"] = agency
    return jwt.encode(claims, secret, algorithm="HS256")


def authenticator(secret: str, roles: set[str]):
    """A FastAPI dependency: the caller's identity from a valid token with one of `roles`, else 401/403."""
    bearer = HTTPBearer(auto_error=False)

    async def identify(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Identity:
        if credentials is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required",
                                headers={"WWW-Authenticate": "Bearer"})
        return identify_token(secret, credentials.credentials, roles)

    return identify


def identify_token(secret: str, token: str, roles: set[str]) -> Identity:
    """The identity a token names, if it is valid and has one of `roles`; else HTTPException 401 or 403."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE,
                            options={"require": ["exp", "sub", "aud"]})
        identity = Identity(subject=claims["sub"], role=claims.get("role"), chair_id=claims.get("chair_id"),
                            agency=claims.get("agency"), expires=datetime.fromtimestamp(claims["exp"], UTC))
    except (jwt.PyJWTError, ValidationError) as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, f"invalid token: {type(error).__name__}",
                            headers={"WWW-Authenticate": "Bearer"}) from None
    if identity.role not in roles:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs one of the roles: {', '.join(sorted(roles))}")
    return identity


def with_api(stream_app: Any, api: Any, prefixes: tuple[str, ...] = ("/api",)) -> Any:
    """One ASGI app: requests under one of `prefixes` go to the API; the rest (health, AsyncAPI, lifespan) to
    FastStream."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes):
            await api(scope, receive, send)
        else:
            await stream_app(scope, receive, send)

    return app
