"""Dates and money in the customer's language (Babel)."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALES = {"fr": "fr_FR", "en": "en_GB"}


def locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["en"])


def money(amount_minor: int, currency: str, language: str) -> str:
    """199,00 € in French, €199.00 in English (amounts are stored in minor units)."""
    return format_currency(amount_minor / 100, currency, locale=locale(language))


def day(value: datetime, language: str) -> str:
    """24 novembre 2026 / 24 November 2026."""
    return format_date(value.date(), format="long", locale=locale(language))


def number(value: float, language: str) -> str:
    """9,2 in French, 9.2 in English."""
    return format_decimal(value, locale=locale(language))
