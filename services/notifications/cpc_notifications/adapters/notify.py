"""GOV.UK Notify, through its official client, for e-mail, text messages and letters.

Each message goes to one generic Notify template per channel whose content is `((subject))` and
`((body))`, so the wording stays in this service's templates."""

from __future__ import annotations

import asyncio

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient


class PermanentFailure(Exception):
    """Notify refused the message for good (a bad number or address): retrying will not help."""


class NotifyChannel:
    def __init__(self, api_key: str, base_url: str, sms_template: str, email_template: str) -> None:
        self._client = NotificationsAPIClient(api_key, base_url=base_url)
        self._sms_template, self._email_template = sms_template, email_template

    async def send_sms(self, *, phone: str, body: str, reference: str) -> None:
        await self._call(self._client.send_sms_notification, phone_number=phone, template_id=self._sms_template,
                         personalisation={"body": body}, reference=reference)

    async def send_email(self, *, email: str, subject: str, body: str, reference: str) -> None:
        await self._call(self._client.send_email_notification, email_address=email,
                         template_id=self._email_template, personalisation={"subject": subject, "body": body},
                         reference=reference)

    @staticmethod
    async def _call(method, **arguments) -> None:
        try:
            await asyncio.to_thread(method, **arguments)
        except HTTPError as error:
            if 400 <= (error.status_code or 500) < 500 and error.status_code != 429:
                raise PermanentFailure(f"Notify refused the message ({error.status_code})") from None
            raise
