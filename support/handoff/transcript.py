"""A conversation as a ticket keeps it: the customer's and the bot's lines, card data removed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from support.redaction import redact_card_data
from support.text import clean_text
from support.vocabulary import Author

MAX_TEXT = 4000


@dataclass(frozen=True)
class Line:
    """One message of the conversation, as the transcript keeps it."""

    key: str  # identifies the tracker event, so a message is never added twice
    at: datetime
    author: str  # an Author
    text: str


@dataclass
class HandoffRequest:
    conversation_id: str
    channel: str
    language: str
    email: Optional[str]  # from the verified token only
    reason: str
    topic: Optional[str]
    lines: List[Line] = field(default_factory=list)


def event_time(event: Dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)


def user_line(event: Dict[str, Any]) -> Line:
    return Line(f"user:{event.get('timestamp')}", event_time(event), Author.CUSTOMER, clean(event.get("text") or ""))


def clean(text: str) -> str:
    """The text as a person reads it: control characters and card data removed, at most MAX_TEXT characters."""
    return redact_card_data(clean_text(text))[:MAX_TEXT]


def transcript(events: Iterable[Dict[str, Any]]) -> List[Line]:
    """The customer's and the bot's messages of a tracker, redacted."""
    lines = []
    for event in events:
        if event.get("event") == "user" and (event.get("text") or "").strip():
            lines.append(user_line(event))
        elif event.get("event") == "bot" and (event.get("text") or "").strip():
            if (event.get("metadata") or {}).get("agent"):
                continue  # an agent's reply: the ticket has it already (desk.record_reply)
            lines.append(Line(f"bot:{event.get('timestamp')}", event_time(event), Author.BOT, clean(event["text"])))
    return lines
