"""E-mail by SMTP."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self._sender = host, port, sender

    async def send(self, *, to: str, subject: str, body: str, message_id: str, conference_id: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = to
        message["Subject"] = subject
        # The same message id on a resend lets a mail system recognise a duplicate.
        message["Message-ID"] = f"<{message_id}@cpc.local>"
        message["X-CPC-Conference"] = conference_id
        message.set_content(body)
        await aiosmtplib.send(message, hostname=self._host, port=self._port, timeout=10)
