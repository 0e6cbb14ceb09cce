"""Counts how many user messages in a row the assistant failed to understand."""

from __future__ import annotations

from typing import Any, Dict, Iterable

MISUNDERSTOOD_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
OFFER_HUMAN_AFTER = 2  # misunderstandings in a row before a person is offered


def misunderstandings_in_a_row(events: Iterable[Dict[str, Any]]) -> int:
    """Counts the latest user messages, newest first, until one was understood."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in MISUNDERSTOOD_INTENTS:
            break
        count += 1
    return count
