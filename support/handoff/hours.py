"""When people answer handed-over conversations (product.yml), told in the customer's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Dict, Optional
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_time,
    get_day_names,
    get_timezone_location,
)

from support import i18n
from support.formatting import locale
from support.settings import WEEKDAYS, Product, product


@dataclass(frozen=True)
class SupportHours:
    zone: ZoneInfo
    days: tuple  # weekday numbers, Monday = 0
    opens: time
    closes: time

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.zone)
        return local.weekday() in self.days and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        for offset in range(8):
            day = (local + timedelta(days=offset)).date()
            opening = datetime.combine(day, self.opens, tzinfo=self.zone)
            if day.weekday() in self.days and opening > local:
                return opening
        raise ValueError("support_days is empty")


def support_hours(facts: Optional[Product] = None) -> SupportHours:
    facts = facts or product()
    return SupportHours(
        ZoneInfo(facts.support_timezone),
        tuple(WEEKDAYS.index(day) for day in facts.support_days),
        facts.support_opens,
        facts.support_closes,
    )


def clock(value: time, language: str) -> str:
    """A time of day the language's way: "9 h", "18 h", "9 h 30" in French, "09:00" in English."""
    if locale(language).startswith("fr"):
        pattern = "H'\u00a0h'" if not value.minute else "H'\u00a0h\u00a0'mm"
        return format_time(value, pattern, locale=locale(language))
    return format_time(value, format="short", locale=locale(language))


def describe_hours(hours: SupportHours, language: str) -> str:
    """ "du lundi au vendredi, de 9 h à 18 h (heure de Paris)" / "Monday to Friday, 09:00–18:00 Paris time"."""
    names = get_day_names("wide", locale=locale(language))
    first, last = names[hours.days[0]], names[hours.days[-1]]
    days = first if first == last else i18n.text(language, "hours.day_range", first=first, last=last)
    city = get_timezone_location(hours.zone.key, locale=locale(language), return_city=True)
    return i18n.text(
        language,
        "hours.summary",
        days=days,
        opens=clock(hours.opens, language),
        closes=clock(hours.closes, language),
        zone=i18n.text(language, "hours.local_time", city=city),
    )


def describe_opening(opening: datetime, hours: SupportHours, language: str) -> str:
    """ "lundi 23 novembre à 9 h" / "Monday 23 November, 09:00", in the support's time zone."""
    local = opening.astimezone(hours.zone)
    return i18n.text(
        language,
        "hours.next_opening",
        day=format_date(local.date(), "EEEE d MMMM", locale=locale(language)),
        time=clock(local.time(), language),
    )


def reply_expectation(now: datetime, language: str) -> Dict[str, Any]:
    """The parameters of the handoff answer: open now or not, the hours, the next opening, the usual wait
    ("15 minutes", rendered in the customer's language with its plural)."""
    hours = support_hours()
    opening = hours.next_opening(now)
    return {
        "open_now": hours.is_open(now),
        "hours": describe_hours(hours, language),
        "next_opening": describe_opening(opening, hours, language),
        "wait_minutes": i18n.plural(language, "handoff.wait_minutes", product().expected_wait_minutes),
    }


def describe_moment(value: datetime, language: str) -> Dict[str, str]:
    """A past moment in the support's time zone: {"date": "29 novembre 2026", "time": "15 h 05 (heure de Paris)"}."""
    hours = support_hours()
    local = value.astimezone(hours.zone)
    city = get_timezone_location(hours.zone.key, locale=locale(language), return_city=True)
    zone = i18n.text(language, "hours.local_time", city=city)
    return {
        "date": format_date(local.date(), "long", locale=locale(language)),
        "time": f"{clock(local.time(), language)} ({zone})",
    }
