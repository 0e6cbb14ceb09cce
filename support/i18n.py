"""The one bilingual catalogue of the texts Python code builds for customers (not domain/ responses).

The messages live in gettext catalogues, `support/locale/<fr|en>/LC_MESSAGES/messages.po`. A msgid is a
stable key named after where the text is used ("link.linked"), never an English sentence, so both
languages are full translations and the English one can change without touching the French one.

A message that depends on a number is a gettext plural: its msgid is the key and its msgid_plural
is the key + ".plural" (`PLURAL_SUFFIX`); `{count}` in its text is the number, written the
language's way. Each .po file's `Plural-Forms` header chooses the form: in French 0 and 1 take the
singular (`n > 1`), in English only 1 does (`n != 1`).

The .po files are read with Babel and compiled in memory, once per process: there is no .mo file
to build or commit. tests/unit/test_catalogue.py checks that both languages have the same keys,
plural forms and typography, and that every key the code uses exists.
"""

from __future__ import annotations

import logging
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any, Dict, List, Tuple

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from support.formatting import locale

LANGUAGES = ("fr", "en")
FALLBACK = "en"  # a language without a catalogue, or a key missing in one, gets the English text
DOMAIN = "messages"
PLURAL_SUFFIX = ".plural"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

logger = logging.getLogger(__name__)


def po_path(language: str) -> Path:
    """support/locale/<language>/LC_MESSAGES/messages.po."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _language(language: str) -> str:
    """'fr', 'fr-CA' or 'fr_FR' -> 'fr'; anything else -> English."""
    code = (language or "").lower()[:2]
    return code if code in LANGUAGES else FALLBACK


@cache
def _catalog(language: str) -> Catalog:
    """The .po file as Babel reads it (obsolete entries dropped, invalid ones an error)."""
    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN, ignore_obsolete=True, abort_invalid=True)
    for message in catalog:
        if message.pluralizable and message.id[1] != message.id[0] + PLURAL_SUFFIX:
            raise ValueError(
                f"{po_path(language)}: msgid_plural of {message.id[0]!r} must be {message.id[0] + PLURAL_SUFFIX!r}"
            )
    return catalog


@cache
def _translations(language: str) -> Translations:
    """The catalogue compiled to .mo in memory and loaded as gettext translations."""
    buffer = BytesIO()
    write_mo(buffer, _catalog(language))
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@cache
def catalogue(language: str) -> Dict[str, Tuple[str, ...]]:
    """Every key of one language's catalogue with its raw text: (text,) for a message, (form 0, form 1)
    for a plural. Fuzzy and untranslated entries count as missing, as they do for gettext."""
    entries: Dict[str, Tuple[str, ...]] = {}
    for message in _catalog(language):
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else str(message.id[0])
        strings = message.string or ""
        forms: Tuple[str, ...] = (strings,) if isinstance(strings, str) else tuple(str(form) for form in strings)
        if forms and all(forms):
            entries[key] = forms
    return entries


def keys() -> List[str]:
    """Every key of the French and English catalogues, sorted (a key missing in one is still listed)."""
    return sorted(set().union(*(catalogue(language) for language in LANGUAGES)))


def _source(language: str, key: str, forms: int) -> str:
    """The language that has `key` with that many forms: `language`, else English; KeyError otherwise."""
    for candidate in dict.fromkeys((language, FALLBACK)):
        entry = catalogue(candidate).get(key)
        if entry is not None and len(entry) == forms:
            if candidate != language:
                logger.warning("message %r missing in %r: English text used", key, language)
            return candidate
    kind = "plural message" if forms == 2 else "message"
    raise KeyError(f"no {kind} {key!r} in the catalogue")


def text(language: str, key: str, **values: Any) -> str:
    """The message `key` in `language` ('fr' or 'en'; anything else gets English), formatted with
    str.format(**values): text("fr", "link.not_linked", platform="Telegram")."""
    language = _language(language)
    source = _source(language, key, 1)
    return _translations(source).gettext(key).format(**values)


def plural(language: str, key: str, count: int, **values: Any) -> str:
    """The singular or plural form of `key` that suits `count` in `language`, formatted with
    str.format(count=<count written the language's way>, **values): plural("fr", "account.days", 3)
    gives "3 jours", plural("fr", "account.days", 1) and plural("fr", "account.days", 0) "1 jour" and
    "0 jour", plural("en", "account.days", 0) "0 days"."""
    language = _language(language)
    source = _source(language, key, 2)
    form = _translations(source).ngettext(key, key + PLURAL_SUFFIX, count)
    return form.format(count=format_decimal(count, locale=locale(source)), **values)
