"""Dates as a reader of each language the family's messages and form are written in says them."""

from __future__ import annotations

from datetime import date

POLISH_DAYS = ["poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela"]
POLISH_MONTHS = ["stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
                 "października", "listopada", "grudnia"]


def long_date(day: date, language: str, *, year: bool = True) -> str:
    """"Tuesday 8 December 2026", "wtorek 8 grudnia 2026" (English for a language we do not write)."""
    if language == "pl":
        text = f"{POLISH_DAYS[day.weekday()]} {day.day} {POLISH_MONTHS[day.month - 1]}"
    else:
        text = day.strftime("%A %-d %B")
    return f"{text} {day.year}" if year else text
