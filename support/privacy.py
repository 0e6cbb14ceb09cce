"""Privacy requests (GDPR / RGPD / Loi 25) for one customer, by email or by conversation: export everything
the assistant holds about them, or erase it. Rasa Open Source cannot delete a conversation (RasaHQ/rasa#10719):
its stored events are deleted here, in its own table.

What belongs to a customer: the conversations whose stored events name their email (the identity every
channel attests on a signed-in message, or the email they typed), their tickets (by email or conversation)
with transcripts and helpdesk copies, their messenger links and link codes, the emails sent to them, the
audit entries they made, and their satisfaction answers. The account and user rows are the billing system's
records, not the assistant's: they are neither exported nor erased here.

Erasing deletes the conversations and links, anonymises tickets, emails, audit entries and ratings (counts
and figures stay true), and writes one audit entry naming the manager, the time and the numbers, never the
customer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.conversation_store import conversation_events, conversations_mentioning, delete_conversations
from support.db.engine import session_scope
from support.db.queries import audit

ERASED = "[erased]"
ERASED_EMAIL = "erased@invalid"


class PrivacyRequestError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Erased:
    conversations: int = 0
    events: int = 0
    tickets: int = 0
    transcript_lines: int = 0
    emails: int = 0
    links: int = 0
    audit_entries: int = 0
    ratings: int = 0


def _subject(email: Optional[str], conversation: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    email = (email or "").strip().lower() or None
    conversation = (conversation or "").strip() or None
    if bool(email) == bool(conversation):
        raise PrivacyRequestError("give_email_or_conversation")
    if email and ("@" not in email or len(email) > 255):
        raise PrivacyRequestError("invalid_email")
    return email, conversation


def _conversations(store: Engine, session: Session, email: Optional[str], conversation: Optional[str]) -> List[str]:
    if conversation:
        return [conversation]
    assert email is not None
    found = set(conversations_mentioning(store, email))
    found |= set(session.execute(select(m.Ticket.conversation_id).where(m.Ticket.user_email == email)).scalars())
    return sorted(found)


def _tickets(session: Session, email: Optional[str], conversations: List[str]) -> List[m.Ticket]:
    conditions = [m.Ticket.conversation_id.in_(conversations)] if conversations else []
    if email:
        conditions.append(m.Ticket.user_email == email)
    if not conditions:
        return []
    return list(session.execute(select(m.Ticket).where(or_(*conditions)).order_by(m.Ticket.id)).scalars())


def _columns(row: Any) -> Dict[str, Any]:
    return {column.name: getattr(row, column.key) for column in row.__table__.columns}


def export_customer(
    bind: Engine, store: Engine, now: datetime, email: Optional[str] = None, conversation: Optional[str] = None
) -> Dict[str, Any]:
    """Everything the assistant holds about the customer, as one JSON-ready dict."""
    email, conversation = _subject(email, conversation)
    with session_scope(bind) as session:
        conversations = _conversations(store, session, email, conversation)
        tickets = _tickets(session, email, conversations)
        ticket_ids = [t.id for t in tickets]
        data: Dict[str, Any] = {
            "exported_at": now.isoformat(),
            "subject": {"email": email, "conversation": conversation},
            "tickets": [{**_columns(t), "transcript": [_columns(line) for line in t.messages]} for t in tickets],
            "helpdesk_deliveries": [
                _columns(row)
                for row in session.execute(
                    select(m.HelpdeskDelivery).where(m.HelpdeskDelivery.ticket_id.in_(ticket_ids))
                ).scalars()
            ],
            "satisfaction": [
                _columns(row)
                for row in session.execute(
                    select(m.SatisfactionRating).where(m.SatisfactionRating.conversation_id.in_(conversations))
                ).scalars()
            ],
            "messenger_links": [],
            "emails": [],
            "audit_entries": [],
        }
        if email:
            data["messenger_links"] = [
                _columns(row)
                for row in session.execute(select(m.MessengerLink).where(m.MessengerLink.email == email)).scalars()
            ]
            data["emails"] = [
                _columns(row)
                for row in session.execute(select(m.OutboxEmail).where(m.OutboxEmail.to_email == email)).scalars()
            ]
            data["audit_entries"] = [
                _columns(row)
                for row in session.execute(select(m.AuditLog).where(m.AuditLog.actor_email == email)).scalars()
            ]
    data["conversations"] = conversation_events(store, conversations)
    return data


def _scrub(value: Any, email: str) -> Any:
    """The value with every string holding the email replaced (audit details, helpdesk payloads)."""
    if isinstance(value, dict):
        return {key: _scrub(item, email) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, email) for item in value]
    if isinstance(value, str) and email in value.lower():
        return ERASED
    return value


def erase_customer(
    bind: Engine,
    store: Engine,
    manager: str,
    now: datetime,
    email: Optional[str] = None,
    conversation: Optional[str] = None,
) -> Dict[str, int]:
    """Erases what export_customer finds; returns the counts (also in the audit entry)."""
    email, conversation = _subject(email, conversation)
    done = Erased()
    with session_scope(bind) as session:
        conversations = _conversations(store, session, email, conversation)
    # first the conversations: if what follows fails, asking again finds the rest by email or conversation
    done.conversations, done.events = len(conversations), delete_conversations(store, conversations)
    with session_scope(bind) as session:
        for ticket in _tickets(session, email, conversations):
            done.tickets += 1
            for line in ticket.messages:
                line.text, done.transcript_lines = ERASED, done.transcript_lines + 1
            ticket.user_email, ticket.summary = None, {"headline": ERASED, "facts": []}
            ticket.conversation_id = f"erased-{ticket.id}"
            for delivery in session.execute(
                select(m.HelpdeskDelivery).where(m.HelpdeskDelivery.ticket_id == ticket.id)
            ).scalars():
                delivery.payload = {"erased": True}
        for rating in session.execute(
            select(m.SatisfactionRating).where(m.SatisfactionRating.conversation_id.in_(conversations))
        ).scalars():
            rating.comment, rating.conversation_id, done.ratings = None, "erased", done.ratings + 1
        if email:
            _erase_by_email(session, email, now, done)
        audit(session, manager, None, "privacy.erased", None, asdict(done), now)
    return asdict(done)


def _erase_by_email(session: Session, email: str, now: datetime, done: Erased) -> None:
    done.links = session.execute(delete(m.MessengerLink).where(m.MessengerLink.email == email)).rowcount or 0
    session.execute(delete(m.MessengerLinkCode).where(m.MessengerLinkCode.email == email))
    for row in session.execute(select(m.OutboxEmail).where(m.OutboxEmail.to_email == email)).scalars():
        row.to_email, row.payload, done.emails = ERASED_EMAIL, {}, done.emails + 1
        if row.sent_at is None and row.failed_at is None:
            row.failed_at, row.last_error = now, "erased before it was sent"  # never sent to nobody
    for entry in session.execute(select(m.AuditLog).where(m.AuditLog.actor_email == email)).scalars():
        entry.actor_email, entry.details, entry.conversation_id = ERASED, _scrub(entry.details, email), None
        done.audit_entries += 1
