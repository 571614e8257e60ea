"""The local mail server's index beside its Maildir, and the reader that follows it."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from cpc_stack.mail import Mailbox
from cpc_stack.mailcatcher import INDEX, IndexedMaildir


def mail(conference: str, purpose: str, to: str) -> EmailMessage:
    message = EmailMessage()
    message["To"], message["X-CPC-Conference"], message["X-CPC-Purpose"] = to, conference, purpose
    message["Subject"] = f"{purpose} {conference}"
    message.set_content("Dear family,\n")
    return message


def maildir(path: Path) -> Path:
    for folder in ("cur", "new", "tmp"):  # as the stack makes it (infra.start_smtp)
        (path / folder).mkdir()
    return path


def test_each_mail_delivered_is_indexed_and_found_by_conference_purpose_and_recipient_in_order(tmp_path: Path):
    server, reader = IndexedMaildir(maildir(tmp_path)), Mailbox(tmp_path)
    server.handle_message(mail("CPC-1", "invitation", "a@family.example"))
    server.handle_message(mail("CPC-2", "invitation", "a@family.example"))
    assert [m["Subject"] for m in reader.find("CPC-1")] == ["invitation CPC-1"]
    server.handle_message(mail("CPC-1", "update", "a@family.example"))  # after the reader's first look
    server.handle_message(mail("CPC-1", "update", "b@council.example"))
    found = reader.find("CPC-1", ("invitation", "update"), to="a@family.example")
    assert [m["Subject"] for m in found] == ["invitation CPC-1", "update CPC-1"]
    assert len(reader.find("CPC-1", None)) == 3 and reader.find("CPC-3") == []
    assert len((tmp_path / INDEX).read_text().splitlines()) == 4


def test_a_line_still_being_written_waits_and_a_new_index_is_read_from_its_start(tmp_path: Path):
    server, reader = IndexedMaildir(maildir(tmp_path)), Mailbox(tmp_path)
    server.handle_message(mail("CPC-1", "invitation", "a@family.example"))
    whole = (tmp_path / INDEX).read_text()
    with (tmp_path / INDEX).open("a") as index:
        index.write(whole.split("\t")[0] + "\tCPC-9\tinvit")  # half a line
    assert reader.find("CPC-9") == [] and len(reader.find("CPC-1")) == 1
    with (tmp_path / INDEX).open("a") as index:
        index.write("ation\ta@family.example\n")
    assert len(reader.find("CPC-9")) == 1
    (tmp_path / INDEX).unlink()  # a fresh stack: a new index, shorter than what was read
    (tmp_path / INDEX).write_text(whole)
    assert len(reader.find("CPC-1")) == 1 and reader.find("CPC-9") == []
