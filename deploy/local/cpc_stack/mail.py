"""The local mail server's Maildir, read back as a recipient would: the mails about a conference, by purpose and
address. Each file's headers are read once (a simulated month leaves some 5,000 mails)."""

from __future__ import annotations

import mailbox
import re
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

FAMILY_LINK = re.compile(r"https?://\S+/family/\S+")


class Mailbox:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self._headers: dict[str, tuple[str | None, str | None, str | None]] = {}  # file -> (conference, purpose, to)

    def find(self, conference_id: str, purposes: tuple[str, ...] | None = ("invitation",), to: str | None = None
             ) -> list[Message]:
        """The mails for a conference with one of `purposes` (None: any), to `to` if given, oldest first."""
        box = mailbox.Maildir(str(self.maildir), create=False)
        found = []
        for key in sorted(box.iterkeys()):  # a key starts with the time it was delivered
            if key not in self._headers:
                with box.get_file(key) as file:
                    headers = BytesParser().parse(file, headersonly=True)  # type: ignore[arg-type]
                self._headers[key] = (headers.get("X-CPC-Conference"), headers.get("X-CPC-Purpose"), headers.get("To"))
            conference, purpose, address = self._headers[key]
            if conference == conference_id and (purposes is None or purpose in purposes) and to in (None, address):
                found.append(box.get_message(key))
        return found


    def family_links(self, count: int) -> list[tuple[Message, str]]:
        """The newest invitations that carry a link to the family's form, with the link, newest first."""
        box = mailbox.Maildir(str(self.maildir), create=False)
        found: list[tuple[Message, str]] = []
        for key in sorted(box.iterkeys(), reverse=True):
            mail = box.get_message(key)
            if mail["X-CPC-Purpose"] == "invitation" and (link := family_link(mail)):
                found.append((mail, link))
                if len(found) == count:
                    break
        return found


def family_link(mail: Message) -> str | None:
    """The link to the family's form in a mail, if it has one."""
    found = FAMILY_LINK.search(text_of(mail))
    return found.group(0) if found else None


def text_of(mail: Message) -> str:
    """The plain-text body of a mail."""
    part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]
