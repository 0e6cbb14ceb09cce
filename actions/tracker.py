"""What the actions read from a tracker: the message's metadata and the conversation's language."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk import Tracker

from support.settings import product


def latest_user_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The channel metadata of the message being answered (never an earlier one)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def conversation_language(tracker: Tracker) -> str:
    """The language the conversation is held in (the `language` slot), else product.yml's default."""
    return tracker.get_slot("language") or product().default_language
