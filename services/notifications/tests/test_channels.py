"""Choosing the channel, and holding text messages back in quiet hours."""

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from cpc_notifications.handlers import _channel, _quiet_hours
from cpc_shared.clock import FixedClock
from cpc_shared.profile import load_profile

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "gloucestershire-2022.yaml")


def post(texts: object | None, at: datetime) -> SimpleNamespace:
    """Only the parts the channel rules use."""
    return SimpleNamespace(texts=texts, clock=FixedClock(at), zone=ZoneInfo(PROFILE.timezone))


def test_the_preferred_channel_is_used_where_possible_else_email():
    with_notify = post(object(), datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert _channel({"preferred_channel": "sms"}, {"phone": "07700900001", "email": "a@b"}, with_notify) == ("sms", None)
    assert _channel({"preferred_channel": "email"}, {"phone": "07700900001", "email": "a@b"}, with_notify) == (
        "email", None)
    assert _channel({"preferred_channel": "letter"}, {"email": "a@b"}, with_notify) == ("email", None)
    without_notify = post(None, datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert _channel({"preferred_channel": "sms"}, {"phone": "07700900001", "email": "a@b"}, without_notify) == (
        "email", None)


def test_when_nothing_can_be_sent_the_failure_names_the_channel_the_person_asked_for():
    without_notify = post(None, datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert _channel({"preferred_channel": "sms"}, {"phone": "07700900001"}, without_notify) == (
        "sms", "no text message service is configured")
    assert _channel({"preferred_channel": "letter"}, {}, without_notify)[0] == "letter"
    assert _channel({}, {"phone": "07700900001"}, without_notify) == ("email", "no address to send by email")


def test_no_text_messages_in_the_evening_or_at_night():
    assert _quiet_hours(post(None, datetime(2026, 11, 23, 20, 30, tzinfo=UTC)))
    assert _quiet_hours(post(None, datetime(2026, 11, 24, 7, 45, tzinfo=UTC)))
    assert not _quiet_hours(post(None, datetime(2026, 11, 24, 8, 0, tzinfo=UTC)))
    assert _quiet_hours(post(None, datetime(2026, 7, 1, 19, 30, tzinfo=UTC)))  # 20:30 in summer time
