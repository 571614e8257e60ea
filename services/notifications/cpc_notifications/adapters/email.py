"""E-mail by SMTP, with the calendar invitation attached."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib


class SmtpChannel:
    """Sends over one connection kept open between mails (opening one per mail cost ~14 ms locally), and
    opens a new one when the server has closed it (servers drop idle connections)."""

    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self.sender = host, port, sender
        self._client: aiosmtplib.SMTP | None = None

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._client is None or not self._client.is_connected:
            client = aiosmtplib.SMTP(hostname=self._host, port=self._port, timeout=10)
            await client.connect()
            self._client = client
        return self._client

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
        for attempt in (1, 2):
            try:
                await (await self._connection()).send_message(message)
                return
            except aiosmtplib.SMTPServerDisconnected:  # closed while idle: once more, on a new connection
                self._forget()
                if attempt == 2:
                    raise
            except BaseException:
                self._forget()
                raise

    def _forget(self) -> None:
        """After a failure the connection's state is unknown: the next mail opens a new one."""
        if self._client is not None:
            self._client.close()
            self._client = None
