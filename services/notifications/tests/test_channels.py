"""Choosing the channel, and holding text messages back in quiet hours."""

from datetime import UTC, datetime
from pathlib import Path

from cpc_notifications.postroom import Postroom
from cpc_shared.clock import FixedClock
from cpc_shared.profile import load_profile

PROFILE = load_profile(Path(__file__).resolve().parents[3] / "profiles" / "gloucestershire-2022.yaml")


def postroom(notify: object | None, at: datetime) -> Postroom:
    room = Postroom.__new__(Postroom)  # only the parts the channel rules use
    room.notify, room.clock = notify, FixedClock(at)
    room.zone = __import__("zoneinfo").ZoneInfo(PROFILE.timezone)
    return room


def test_the_preferred_channel_is_used_where_possible_else_email():
    with_notify = postroom(object(), datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert with_notify._channel({"preferred_channel": "sms"}, {"phone": "07700900001", "email": "a@b"}) == ("sms", None)
    assert with_notify._channel({"preferred_channel": "email"}, {"phone": "07700900001", "email": "a@b"}) == (
        "email", None)
    assert with_notify._channel({"preferred_channel": "letter"}, {"email": "a@b"}) == ("email", None)
    without_notify = postroom(None, datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert without_notify._channel({"preferred_channel": "sms"}, {"phone": "07700900001", "email": "a@b"}) == (
        "email", None)


def test_when_nothing_can_be_sent_the_failure_names_the_channel_the_person_asked_for():
    without_notify = postroom(None, datetime(2026, 11, 23, 12, tzinfo=UTC))
    assert without_notify._channel({"preferred_channel": "sms"}, {"phone": "07700900001"}) == (
        "sms", "no text message service is configured")
    assert without_notify._channel({"preferred_channel": "letter"}, {})[0] == "letter"
    assert without_notify._channel({}, {"phone": "07700900001"}) == ("email", "no address to send by email")


def test_no_text_messages_in_the_evening_or_at_night():
    assert postroom(None, datetime(2026, 11, 23, 20, 30, tzinfo=UTC))._quiet_hours()
    assert postroom(None, datetime(2026, 11, 24, 7, 45, tzinfo=UTC))._quiet_hours()
    assert not postroom(None, datetime(2026, 11, 24, 8, 0, tzinfo=UTC))._quiet_hours()
    assert postroom(None, datetime(2026, 7, 1, 19, 30, tzinfo=UTC))._quiet_hours()  # 20:30 in summer time
