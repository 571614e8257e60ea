"""A notification: one message to one person about one conference (or to the team), sent once.

    sending ──sent──> sent
       │  └──held back (a text in quiet hours)──> deferred ──sent──> sent
       │                                             └──failed──> failed
       └──failed (no way to reach them, refused for good)──> failed

Its id names the conference, the recipient, the purpose and the version. It is stored once it is settled (sent,
held back or failed), with the event that says so, so a redelivered event finds it there and sends nothing new.
One found still `sending` was stored by an earlier version, which claimed before it sent, by a process that stopped
before it knew the outcome: it is sent again.

A timer is a message to send later: a reminder, or a text held back until the morning.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from cpc_shared.contracts.outbound import Channel, NotificationFailed, NotificationSent
from cpc_shared.envelope import event_id
from cpc_shared.repository import Aggregate

PUBLISHED_PURPOSES = {"invitation", "update", "cancellation", "reminder", "report_request", "report_chaser"}


class NotificationStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"


class Notification(Aggregate):
    collection: ClassVar[str] = "messages"

    conference_id: str
    recipient_id: str
    purpose: str
    for_version: str  # of the conference, or whatever makes this message differ from an earlier one
    status: NotificationStatus = NotificationStatus.SENDING
    language: str = "en"
    channel: Channel | None = None
    sent_at: datetime | None = None
    failure: str | None = None

    @staticmethod
    def id_for(conference_id: str, recipient_id: str, purpose: str, version: str) -> str:
        return "NTF-" + event_id(conference_id, recipient_id, purpose, version)

    @classmethod
    def claim(cls, notification_id: str, conference_id: str, recipient_id: str, purpose: str, version: str,
              language: str) -> Notification:
        return cls(id=notification_id, conference_id=conference_id, recipient_id=recipient_id, purpose=purpose,
                   for_version=version, language=language)

    @property
    def settled(self) -> bool:
        """Sent, held back or failed for good: never sent again from a redelivered event."""
        return self.status != NotificationStatus.SENDING

    @property
    def published_purpose(self) -> str:
        return self.purpose if self.purpose in PUBLISHED_PURPOSES else "alert"

    def sent(self, channel: Channel, now: datetime) -> None:
        self.status, self.channel, self.sent_at = NotificationStatus.SENT, channel, now
        self.record(NotificationSent(conference_id=self.conference_id, notification_id=self.id,
                                     recipient_id=self.recipient_id, purpose=self.published_purpose, channel=channel),
                    at=now, cause=self.id)

    def deferred(self) -> None:
        self.status = NotificationStatus.DEFERRED

    def failed(self, channel: Channel, failure: str, now: datetime) -> None:
        """Failed for good, on the channel the person asked for (`failure` says why, with no contact detail)."""
        self.status, self.channel, self.failure = NotificationStatus.FAILED, channel, failure
        self.record(NotificationFailed(conference_id=self.conference_id, notification_id=self.id,
                                       recipient_id=self.recipient_id, purpose=self.published_purpose,
                                       channel=channel), at=now, cause=self.id)


class TimerStatus(StrEnum):
    WAITING = "waiting"
    DONE = "done"
    SKIPPED = "skipped"  # the conference changed since the timer was set
    CANCELLED = "cancelled"


class Timer(Aggregate):
    collection: ClassVar[str] = "timers"

    conference_id: str
    purpose: str  # deferred_text, or reminder-<working days before>
    conference_version: int
    due_at: datetime
    status: TimerStatus = TimerStatus.WAITING
    message_id: str | None = None  # a deferred text: the notification it sends
    participant_id: str | None = None
    body: str | None = None  # a deferred text's words, sealed like contact details

    @classmethod
    def reminder(cls, conference_id: str, days_before: int, conference_version: int, due_at: datetime) -> Timer:
        return cls(id=f"{conference_id}|reminder-{days_before}|v{conference_version}", conference_id=conference_id,
                   purpose=f"reminder-{days_before}", conference_version=conference_version, due_at=due_at)

    @classmethod
    def deferred_text(cls, notification_id: str, conference_id: str, conference_version: int, participant_id: str,
                      sealed_body: str, due_at: datetime) -> Timer:
        return cls(id=f"{notification_id}|text", conference_id=conference_id, purpose="deferred_text",
                   conference_version=conference_version, due_at=due_at, message_id=notification_id,
                   participant_id=participant_id, body=sealed_body)

    def fired(self, still_current: bool) -> None:
        self.status = TimerStatus.DONE if still_current else TimerStatus.SKIPPED

    def cancel(self) -> None:
        if self.status == TimerStatus.WAITING:
            self.status = TimerStatus.CANCELLED
