"""What a helpdesk sends back: an agent's reply to the customer, or the conversation given back to the bot.

Two sources, one outcome:
- Chatwoot's account webhook (`message_created` with `message_type` outgoing and not private: a reply;
  `conversation_status_changed` to `resolved`: resolved, to `pending`: handed back to the bot), authenticated
  by a secret token in its URL (HELPDESK_WEBHOOK_TOKEN), compared in constant time, and, when
  HELPDESK_WEBHOOK_SECRET is set, by Chatwoot's own signature (v4.11.2 and later: `X-Chatwoot-Signature:
  sha256=HMAC(secret, "<X-Chatwoot-Timestamp>.<raw body>")`, refused more than five minutes old). Chatwoot
  does not retry a failed account webhook;
- the generic inbound API (JSON documented in the README: `message.created`, `ticket.resolved`,
  `ticket.handed_back`), signed with HMAC-SHA256 over the raw body with HELPDESK_SECRET.

A reply is recorded once per (source, event id), in the same transaction as the transcript line, so a
helpdesk that retries its webhook never makes the customer read a reply twice.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.db import models as m
from support.handoff.desk import TicketError, close, find, record_reply
from support.vocabulary import Resolution, TicketStatus

REPLY, IGNORED = "reply", "ignored"
CHATWOOT_STATUSES = {"resolved": Resolution.RESOLVED.value, "pending": Resolution.HANDED_BACK.value}
GENERIC_EVENTS = {
    "ticket.resolved": Resolution.RESOLVED.value,
    "ticket.handed_back": Resolution.HANDED_BACK.value,
}
MAX_ID = 128
SIGNATURE_MAX_AGE = 300  # seconds: an older signed webhook is a replay


@dataclass(frozen=True)
class InboundEvent:
    """One helpdesk event as the bot understands it. `kind`: reply, resolved, handed_back or ignored."""

    source: str
    kind: str
    event_id: str = ""
    reference: str = ""
    helpdesk_conversation: str = ""
    agent: str = ""
    text: str = ""
    why: str = ""  # why an event is ignored (for the answer to the helpdesk and the log)


@dataclass(frozen=True)
class Applied:
    """What the server must now do in the conversation: push a reply, or resume the bot."""

    kind: str  # reply, resolved, handed_back, duplicate
    conversation_id: str
    reference: str
    text: str = ""
    agent: str = ""
    repeated: bool = False  # a resolution the ticket already had: resume only if the bot is still paused


def token_matches(given: Optional[str], expected: Optional[str]) -> bool:
    """A configured, non-empty secret, compared in constant time."""
    return bool(expected) and hmac.compare_digest((given or "").encode(), (expected or "").encode())


def signature_matches(body: bytes, header: Optional[str], secret: Optional[str]) -> bool:
    """`X-Helpdesk-Signature-256: sha256=<hex>` over the raw body, as the outbound webhook signs its own."""
    if not secret or not header:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def chatwoot_signature_matches(
    body: bytes, timestamp: Optional[str], header: Optional[str], secret: Optional[str], now: float
) -> bool:
    """Chatwoot's `X-Chatwoot-Signature` over "<timestamp>.<body>", made within SIGNATURE_MAX_AGE seconds."""
    if not secret or not header or not (timestamp or "").isdigit():
        return False
    if abs(now - int(timestamp or 0)) > SIGNATURE_MAX_AGE:
        return False
    signed = f"{timestamp}.".encode() + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.strip().encode(), expected.encode())


def _name(value: Any) -> str:
    """What the customer sees of an agent: Chatwoot's display name, else the full name."""
    if not isinstance(value, Mapping):
        return ""
    return str(value.get("available_name") or value.get("name") or "").strip()[:64]


def _ignored(source: str, why: str) -> InboundEvent:
    return InboundEvent(source, IGNORED, why=why)


def from_chatwoot(payload: Mapping[str, Any]) -> InboundEvent:
    """Chatwoot's webhook payload (app/models/message.rb and conversation.rb, `webhook_data`)."""
    event = payload.get("event")
    if event == "message_created":
        conversation = payload.get("conversation") or {}
        if payload.get("message_type") not in ("outgoing", 1):
            return _ignored("chatwoot", "not an agent's message")
        if payload.get("private"):
            return _ignored("chatwoot", "private note")
        text = str(payload.get("content") or "").strip()
        if not text:
            return _ignored("chatwoot", "no text")
        return InboundEvent(
            "chatwoot",
            REPLY,
            event_id=str(payload.get("id") or "")[:MAX_ID],
            reference=str((conversation.get("custom_attributes") or {}).get("reference") or ""),
            helpdesk_conversation=str(conversation.get("id") or ""),
            agent=_name(payload.get("sender")) or "Chatwoot",
            text=text,
        )
    if event == "conversation_status_changed":
        resolution = CHATWOOT_STATUSES.get(str(payload.get("status")))
        if resolution is None:
            return _ignored("chatwoot", f"status {payload.get('status')!r}")
        return InboundEvent(
            "chatwoot",
            resolution,
            reference=str((payload.get("custom_attributes") or {}).get("reference") or ""),
            helpdesk_conversation=str(payload.get("id") or ""),
            agent=_name((payload.get("meta") or {}).get("assignee")) or "Chatwoot",
        )
    return _ignored("chatwoot", f"event {event!r}")


def from_generic(payload: Mapping[str, Any]) -> InboundEvent:
    """The generic inbound API: {"event", "id", "ticket": {"reference"}, "agent", "message": {"text"}}."""
    event, ticket = payload.get("event"), payload.get("ticket") or {}
    common = {
        "event_id": str(payload.get("id") or "")[:MAX_ID],
        "reference": str(ticket.get("reference") or "") if isinstance(ticket, Mapping) else "",
        "agent": str(payload.get("agent") or "").strip()[:64] or "Helpdesk",
    }
    if event == "message.created":
        message = payload.get("message") or {}
        text = str(message.get("text") or "").strip() if isinstance(message, Mapping) else ""
        if not text or not common["event_id"]:
            return _ignored("generic", "a message needs an id and a text")
        return InboundEvent("generic", REPLY, text=text, **common)
    if event in GENERIC_EVENTS:
        return InboundEvent("generic", GENERIC_EVENTS[str(event)], **common)
    return _ignored("generic", f"event {event!r}")


def _ticket(session: Session, event: InboundEvent) -> m.Ticket:
    """The ticket by the helpdesk's conversation id, else by our reference (never one the helpdesk's id
    already points elsewhere)."""
    if event.helpdesk_conversation:
        found = session.execute(
            select(m.Ticket)
            .where(m.Ticket.helpdesk_conversation_id == event.helpdesk_conversation)
            .order_by(m.Ticket.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if found is not None:
            return found
    if not event.reference:
        raise TicketError("not_found")
    ticket = find(session, event.reference)
    if event.helpdesk_conversation and ticket.helpdesk_conversation_id not in (None, event.helpdesk_conversation):
        raise TicketError("not_found")
    return ticket


def apply(session: Session, event: InboundEvent, now: datetime) -> Applied:
    """Records the event in the ticket (raises TicketError: not_found, empty, too_long)."""
    ticket = _ticket(session, event)
    if event.kind == REPLY:
        try:
            with session.begin_nested():
                session.add(
                    m.HelpdeskInboundEvent(
                        source=event.source, event_id=event.event_id, ticket_id=ticket.id, received_at=now
                    )
                )
        except IntegrityError:
            return Applied("duplicate", ticket.conversation_id, ticket.reference)
        message = record_reply(session, ticket.reference, event.agent, event.text, now, after_resolved=True)
        return Applied(REPLY, ticket.conversation_id, ticket.reference, text=message.text, agent=event.agent)
    repeated = ticket.status == TicketStatus.RESOLVED
    if not repeated:
        close(session, ticket.reference, event.agent, event.kind, now)
    return Applied(event.kind, ticket.conversation_id, ticket.reference, agent=event.agent, repeated=repeated)
