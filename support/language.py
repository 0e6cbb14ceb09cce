"""Chooses the reply language from the NLU's detection and the conversation so far."""

from __future__ import annotations

from typing import Any, Dict, Optional

SUPPORTED = ("fr", "en")
# Switching away from the conversation's language needs a clear signal:
# "ok", "hello" or a franglais sentence must not flip the whole conversation.
SWITCH_CONFIDENCE = 0.9


def locale_language(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """Maps a channel locale such as 'fr-CA' or 'en_US' to 'fr' or 'en'."""
    locale = str((metadata or {}).get("locale") or "").lower()[:2]
    return locale if locale in SUPPORTED else None


def choose_language(current: Optional[str], detected: Optional[Dict[str, Any]], default: str) -> str:
    """Returns 'fr' or 'en' for the reply.

    current: the conversation's language so far (None on the first turn).
    detected: the `language` property of the parse data: code, confidence, locale.
    """
    detected = detected or {}
    code = detected.get("code")
    prior = current if current in SUPPORTED else detected.get("locale")
    if prior not in SUPPORTED:
        return code if code in SUPPORTED else default
    if code in SUPPORTED and code != prior and detected.get("confidence", 0) >= SWITCH_CONFIDENCE:
        return code
    return prior
