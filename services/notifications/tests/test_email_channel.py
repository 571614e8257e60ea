"""The e-mail channel against a real SMTP server (aiosmtpd, in this process): mails share a connection,
and a server that dropped it (idle timeout, restart) costs nothing but a new one."""

from __future__ import annotations

import socket

from aiosmtpd.controller import Controller
from cpc_notifications.adapters.email import SmtpChannel


class Catcher:
    def __init__(self) -> None:
        self.mails: list[str] = []
        self.sessions: set[int] = set()

    async def handle_DATA(self, server, session, envelope) -> str:
        self.mails.append(envelope.content.decode())
        self.sessions.add(id(session))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def send(channel: SmtpChannel, n: int) -> None:
    await channel.send(to="someone@example.org", subject=f"Mail {n}", body="Hello", message_id=f"NTF-{n}",
                       conference_id="CPC-1", purpose="invitation")


async def test_mails_share_one_connection_and_a_dropped_one_is_reopened():
    catcher, port = Catcher(), free_port()
    server = Controller(catcher, hostname="127.0.0.1", port=port)
    server.start()
    channel = SmtpChannel("127.0.0.1", port, "cpc@example.org")
    try:
        await send(channel, 1)
        await send(channel, 2)
        assert len(catcher.mails) == 2 and len(catcher.sessions) == 1
        server.stop()  # the server goes away and comes back: the open connection is dead
        server = Controller(catcher, hostname="127.0.0.1", port=port)
        server.start()
        await send(channel, 3)
        assert len(catcher.mails) == 3 and len(catcher.sessions) == 2
        assert "Subject: Mail 3" in catcher.mails[-1]
    finally:
        server.stop()
