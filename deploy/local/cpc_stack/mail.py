"""The local mail server's Maildir, read back as a recipient would: the mails about a conference, by purpose and
address, found through the index the mail server keeps beside it (mailcatcher.py)."""

from __future__ import annotations

import mailbox
import os
import re
from email.message import Message
from email.parser import BytesParser
from pathlib import Path

from cpc_stack.mailcatcher import INDEX

FAMILY_LINK = re.compile(r"https?://\S+/family/\S+")


class Mailbox:
    """Reads the index the local mail server keeps beside the Maildir (mailcatcher.py) as it grows: each call
    reads only the lines added since the last. A Maildir without an index (a mail server started by an older
    version) is listed instead, each file's headers read once."""

    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self._headers: dict[str, tuple[str | None, str | None, str | None]] = {}  # file -> (conference, purpose, to)
        self._by_conference: dict[str, list[tuple[str, str, str]]] = {}  # conference -> (key, purpose, to), in order
        self._read_to = 0  # bytes of the index read so far
        self._index_file: tuple[int, int] | None = None  # which file that was (a new stack starts a new one)

    def find(self, conference_id: str, purposes: tuple[str, ...] | None = ("invitation",), to: str | None = None
             ) -> list[Message]:
        """The mails for a conference with one of `purposes` (None: any), to `to` if given, oldest first."""
        box = mailbox.Maildir(str(self.maildir), create=False)
        if not (self.maildir / INDEX).exists():
            return self._listed(box, conference_id, purposes, to)
        self._follow_index()
        return [self._read(box, key) for key, purpose, address in self._by_conference.get(conference_id, [])
                if (purposes is None or purpose in purposes) and to in (None, address)]

    def _read(self, box: mailbox.Maildir, key: str) -> Message:
        """The mail, where the server put it (`new/`), without listing the Maildir as `box.get_message` does."""
        delivered = self.maildir / "new" / key
        try:
            return mailbox.MaildirMessage(delivered.read_bytes())
        except FileNotFoundError:  # moved to cur/ by a mail client
            return box.get_message(key)

    def _follow_index(self) -> None:
        with (self.maildir / INDEX).open("rb") as index:
            started = os.fstat(index.fileno())
            if (started.st_ino, started.st_dev) != self._index_file or started.st_size < self._read_to:
                self._index_file, self._read_to, self._by_conference = (started.st_ino, started.st_dev), 0, {}
            index.seek(self._read_to)
            added = index.read()
        complete = added[:added.rfind(b"\n") + 1]  # a line still being written is read next time
        self._read_to += len(complete)
        for line in complete.decode().splitlines():
            key, conference, purpose, address = line.split("\t")
            self._by_conference.setdefault(conference, []).append((key, purpose, address))

    def _listed(self, box: mailbox.Maildir, conference_id: str, purposes: tuple[str, ...] | None, to: str | None
                ) -> list[Message]:
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
