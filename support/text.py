"""Text as it enters the assistant from any channel: made valid, visible and bounded before it reaches the
NLU, the conversation store or the database.

- Lone UTF-16 surrogates (invalid in UTF-8, they crash encoders) become U+FFFD.
- Control characters other than tab and newline are removed, and so are the bidirectional overrides and
  isolates that can make a line read differently from what it contains (U+202A-U+202E, U+2066-U+2069).
- Unicode NFC, so that "é" typed two ways is one text.
"""

from __future__ import annotations

import re
import unicodedata

_SURROGATES = re.compile(r"[\ud800-\udfff]")
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str) -> str:
    """The text with invalid and invisible characters handled (see the module doc), NFC, trimmed."""
    text = _SURROGATES.sub("\ufffd", text)
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).strip()
