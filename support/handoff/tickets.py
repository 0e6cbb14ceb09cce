"""Handing a conversation to a person: the ticket, its summary and its redacted transcript.

The ticket row is the record that the bot is paused: it is written (with its transcript and the
helpdesk outbox entry) in one transaction, and the action tells Rasa to pause only once that
transaction has committed. A conversation has one ticket: asking again returns it, asking after
it was resolved reopens it.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.billing.accounts import account_view
from support.billing.invoices import recent_attempts, recent_invoices
from support.db import models as m
from support.db.engine import session_scope
from support.db.queries import audit
from support.handoff.summary import BillingHistory, summary
from support.handoff.transcript import HandoffRequest, Line, user_line
from support.helpdesk.outbox import enqueue, enqueue_message
from support.vocabulary import Author, HandoffReason, TicketStatus

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read out on the phone


def _new_reference(session: Session) -> str:
    while True:
        reference = "HD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.execute(select(m.Ticket.id).where(m.Ticket.reference == reference)).first() is None:
            return reference


def open_ticket(session: Session, request: HandoffRequest, now: datetime) -> Tuple[m.Ticket, bool]:
    """The conversation's ticket, created or reopened; False when it was already open (same ticket)."""
    ticket = session.execute(
        select(m.Ticket).where(m.Ticket.conversation_id == request.conversation_id).with_for_update()
    ).scalar_one_or_none()
    if ticket is not None and ticket.status != TicketStatus.RESOLVED:
        add_lines(session, ticket, request.lines, now)
        return ticket, False
    view = account_view(session, request.email) if request.email else None
    history = None  # read before the new ticket is added: a query would flush it half-filled
    if view and request.reason == HandoffReason.BILLING_DISPUTE:
        history = BillingHistory(recent_invoices(session, view.account_id), recent_attempts(session, view.account_id))
    if ticket is None:
        ticket = m.Ticket(
            reference=_new_reference(session),
            conversation_id=request.conversation_id,
            created_at=now,
            status=TicketStatus.OPEN,
        )
        session.add(ticket)
        kind = "ticket.created"
    else:
        kind = "ticket.reopened"
    ticket.channel, ticket.language, ticket.reason, ticket.topic = (
        request.channel,
        request.language,
        request.reason,
        request.topic,
    )
    ticket.account_id = view.account_id if view else None
    ticket.user_email = view.email if view else None
    ticket.summary = summary(view, request, now, history)
    ticket.status, ticket.assigned_to, ticket.resolution, ticket.resolved_at = TicketStatus.OPEN, None, None, None
    ticket.updated_at = now
    session.flush()
    add_lines(session, ticket, request.lines, now, deliver=False)
    enqueue(session, ticket, kind, now)
    if view:
        audit(
            session,
            view.email,
            view.account_id,
            "handoff_requested",
            request.conversation_id,
            {"reference": ticket.reference, "reason": request.reason},
            now,
        )
    return ticket, True


def request_handoff(engine: Engine, request: HandoffRequest, now: datetime) -> Tuple[str, bool]:
    """open_ticket in its own transaction: (reference, created). Two requests racing for the same
    conversation meet at its unique constraint; the loser finds the winner's ticket."""
    for attempt in range(2):
        try:
            with session_scope(engine) as session:
                ticket, created = open_ticket(session, request, now)
                return ticket.reference, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def add_lines(
    session: Session, ticket: m.Ticket, lines: Iterable[Line], now: datetime, deliver: bool = True
) -> List[m.TicketMessage]:
    """Adds the lines the ticket does not have yet; new customer lines also go to the helpdesk."""
    keys = set(
        session.execute(select(m.TicketMessage.source_key).where(m.TicketMessage.ticket_id == ticket.id)).scalars()
    )
    added = []
    for line in lines:
        if line.key in keys:
            continue
        keys.add(line.key)
        message = m.TicketMessage(
            ticket_id=ticket.id, at=line.at, author=line.author, text=line.text, source_key=line.key
        )
        session.add(message)
        added.append(message)
    session.flush()
    if deliver:
        for message in added:
            if message.author == Author.CUSTOMER:
                enqueue_message(session, ticket, message, now)
    if added:
        ticket.updated_at = now
    return added


def active_ticket(session: Session, conversation_id: str) -> Optional[m.Ticket]:
    """The conversation's ticket while a person owns the conversation."""
    return session.execute(
        select(m.Ticket).where(m.Ticket.conversation_id == conversation_id, m.Ticket.status != TicketStatus.RESOLVED)
    ).scalar_one_or_none()


def add_customer_message(session: Session, conversation_id: str, event: Dict[str, Any], now: datetime) -> bool:
    """A message the customer sent while the bot is paused: added to the ticket (once)."""
    if event.get("event") != "user" or not (event.get("text") or "").strip():
        return False
    ticket = active_ticket(session, conversation_id)
    return bool(ticket and add_lines(session, ticket, [user_line(event)], now))
