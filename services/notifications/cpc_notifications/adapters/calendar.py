"""Calendar invitations (iCalendar): one UID per conference, a rising SEQUENCE for each change."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event

from cpc_notifications.domain.messages import Conference


def calendar_invite(conference: Conference, *, cancelled: bool, organiser: str, stamp: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Child protection conferences//cpc//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", f"{conference.conference_id}@cpc")
    event.add("sequence", conference.version)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", conference.starts_at.astimezone(UTC))
    event.add("dtend", conference.ends_at.astimezone(UTC))
    event.add("summary", "Child protection conference")
    event.add("organizer", f"mailto:{organiser}")
    place = conference.place
    location = ", ".join(p for p in (place.room_name, place.office_address) if p) or place.meeting_link or "Online"
    event.add("location", location)
    if place.meeting_link:
        event.add("url", place.meeting_link)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
