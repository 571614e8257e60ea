"""The family's personal link to their form: no account, a token that names one person and one conference.

The token is a Fernet token (AES and an HMAC, with `CPC_FAMILY_LINK_KEY`, which notifications, which writes the
link into the invitation, and reports, which serves the form, share): signed, so it cannot be forged or changed,
and encrypted, so the URL shows nothing about the family, not even ids or their language. It expires on the day
written in it (checked on the service's clock, which may be a simulated one); the form itself closes earlier, at
the end of the day before the conference as it stands (reports knows when that is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ValidationError

PURPOSE = "family-views"


class BadLink(Exception):
    """Not a link we made, changed on the way, or past its expiry: `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FamilyLink(BaseModel):
    """Who may use the link, for which conference, and until when."""

    conference_id: str
    participant_id: str
    language: str = "en"
    expires_at: datetime


@dataclass(frozen=True)
class FamilyLinks:
    key: str

    def issue(self, link: FamilyLink) -> str:
        """The token: as short as Fernet makes it (a compact payload, no base64 padding: a link a mail does not
        break at an `=`)."""
        claims = [PURPOSE, link.conference_id, link.participant_id, link.language, int(link.expires_at.timestamp())]
        token = Fernet(self.key.encode()).encrypt(json.dumps(claims, separators=(",", ":")).encode()).decode()
        return token.rstrip("=")

    def read(self, token: str, now: datetime) -> FamilyLink:
        try:
            padded = token + "=" * (-len(token) % 4)
            purpose, conference_id, participant_id, language, expires = json.loads(
                Fernet(self.key.encode()).decrypt(padded.encode()))
            if purpose != PURPOSE:
                raise BadLink("this link is not complete or not valid")
            link = FamilyLink(conference_id=conference_id, participant_id=participant_id, language=language,
                              expires_at=datetime.fromtimestamp(expires, UTC))
        except (InvalidToken, ValueError, KeyError, TypeError, ValidationError):
            raise BadLink("this link is not complete or not valid") from None
        if now >= link.expires_at:
            raise BadLink("this link has expired")
        return link

    def url(self, base_url: str, link: FamilyLink) -> str:
        return f"{base_url.rstrip('/')}/family/{self.issue(link)}"
