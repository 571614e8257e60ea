"""The local mail server's handler: aiosmtpd's Maildir delivery, and beside it `index.tsv`, one line per mail
delivered, in order: its key in the Maildir, its conference, its purpose and its recipient (the headers
notifications sets). Readers follow the index instead of listing and opening a Maildir that grows by some 8,500
mails a simulated month (listing it for every simulated parent who opens their invitation cost the simulation
most of a core)."""

from __future__ import annotations

import os
from email.message import Message

from aiosmtpd.handlers import Mailbox

INDEX = "index.tsv"
FIELDS = ("X-CPC-Conference", "X-CPC-Purpose", "To")


class IndexedMaildir(Mailbox):
    def __init__(self, mail_dir: os.PathLike[str], message_class: type[Message] | None = None) -> None:
        super().__init__(mail_dir, message_class)
        self._index = open(os.path.join(mail_dir, INDEX), "a", encoding="utf-8")  # noqa: SIM115 - open while serving

    def handle_message(self, message: Message) -> None:
        key = self.mailbox.add(message)
        fields = [key, *(_clean(message.get(name)) for name in FIELDS)]
        self._index.write("\t".join(fields) + "\n")  # after the mail is in place: a reader finds what it names
        self._index.flush()


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""
