"""Sealing at rest: what a person gave us (contact details, a family's own words) is stored encrypted with a
Fernet key (`CPC_CONTACT_KEY`), so the store never holds it in clear."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet


class Seal:
    """Encrypts a JSON object for the store, and opens it again."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, value: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        return json.loads(self._fernet.decrypt(sealed.encode()))
