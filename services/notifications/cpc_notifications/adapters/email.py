"""E-mail by SMTP, with the calendar invitation attached."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib


class SmtpChannel:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self.sender = host, port, sender

    async def send(self, *, to: str, subject: str, body: str, message_id: str, conference_id: str, purpose: str,
                   calendar: bytes | None = None, cancelled: bool = False) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        # The same message id on a resend lets a mail system recognise a duplicate.
        message["Message-ID"] = f"<{message_id}@cpc.local>"
        message["X-CPC-Conference"] = conference_id
        message["X-CPC-Purpose"] = purpose
        message.set_content(body)
        if calendar:
            method = "CANCEL" if cancelled else "REQUEST"
            message.add_attachment(calendar, maintype="text", subtype="calendar", filename="conference.ics",
                                   params={"method": method})
        await aiosmtplib.send(message, hostname=self._host, port=self._port, timeout=10)
