"""The agents' side of a ticket: the queue, one ticket, assign, reply, resolve or hand back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, List

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.emails.status import recent_emails
from support.handoff.transcript import MAX_TEXT, clean
from support.helpdesk.outbox import message_data, ticket_fields
from support.vocabulary import Author, TicketStatus

QUEUE_STATUSES = {
    "active": (TicketStatus.OPEN, TicketStatus.ASSIGNED),
    "open": (TicketStatus.OPEN,),
    "assigned": (TicketStatus.ASSIGNED,),
    "resolved": (TicketStatus.RESOLVED,),
}


class TicketError(Exception):
    """A request the ticket's state does not allow (its `code` is the API's error)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def find(session: Session, reference: str, lock: bool = False) -> m.Ticket:
    query = select(m.Ticket).where(m.Ticket.reference == reference.strip().upper()[:16])
    ticket = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if ticket is None:
        raise TicketError("not_found")
    return ticket


def ticket_row(session: Session, ticket: m.Ticket, now: datetime) -> Dict[str, Any]:
    return {
        **ticket_fields(session, ticket),
        "status": ticket.status,
        "assigned_to": ticket.assigned_to,
        "resolution": ticket.resolution,
        "waiting_minutes": max(0, int((now - m.utc(ticket.created_at)).total_seconds() // 60)),
        "headline": (ticket.summary or {}).get("headline", ""),
    }


def queue(session: Session, status: str, now: datetime) -> List[Dict[str, Any]]:
    """Tickets in the given state, oldest first."""
    statuses = QUEUE_STATUSES.get(status, QUEUE_STATUSES["active"])
    tickets = session.execute(
        select(m.Ticket).where(m.Ticket.status.in_(statuses)).order_by(m.Ticket.created_at, m.Ticket.id).limit(200)
    ).scalars()
    return [ticket_row(session, ticket, now) for ticket in tickets]


def detail(session: Session, reference: str, now: datetime) -> Dict[str, Any]:
    ticket = find(session, reference)
    emails = recent_emails(session, ticket.account_id, limit=5) if ticket.account_id else []
    return {
        **ticket_row(session, ticket, now),
        "conversation_id": ticket.conversation_id,
        "summary": ticket.summary,
        "transcript": [message_data(line) for line in ticket.messages],
        "emails": [  # what became of the account's latest emails: an agent sees one that failed for good
            {"template": e.template, "to": e.to, "state": e.state, "at": e.at.isoformat(), "last_error": e.last_error}
            for e in emails
        ],
    }


def assign(session: Session, reference: str, agent: str, now: datetime) -> m.Ticket:
    ticket = find(session, reference, lock=True)
    if ticket.status == TicketStatus.RESOLVED:
        raise TicketError("resolved")
    ticket.status, ticket.assigned_to, ticket.updated_at = TicketStatus.ASSIGNED, agent, now
    return ticket


def record_reply(
    session: Session, reference: str, agent: str, text: str, now: datetime, after_resolved: bool = False
) -> m.TicketMessage:
    """The agent's reply in the transcript; the ticket becomes theirs if nobody had it. `after_resolved`: a
    helpdesk's reply that arrives after its own "resolved" event (webhooks may come out of order) still counts."""
    text = (text or "").strip()
    if not text:
        raise TicketError("empty")
    if len(text) > MAX_TEXT:
        raise TicketError("too_long")
    ticket = find(session, reference, lock=True)
    if ticket.status == TicketStatus.RESOLVED and not after_resolved:
        raise TicketError("resolved")
    if ticket.status == TicketStatus.OPEN:
        ticket.status, ticket.assigned_to = TicketStatus.ASSIGNED, agent
    ticket.updated_at = now
    message = m.TicketMessage(ticket_id=ticket.id, at=now, author=Author.AGENT, agent=agent, text=clean(text))
    session.add(message)
    session.flush()
    return message


def close(session: Session, reference: str, agent: str, resolution: str, now: datetime) -> m.Ticket:
    """Resolved by the agent, or handed back to the bot: either way the bot takes the conversation again."""
    ticket = find(session, reference, lock=True)
    if ticket.status == TicketStatus.RESOLVED:
        raise TicketError("resolved")
    ticket.status, ticket.resolution, ticket.resolved_at, ticket.updated_at = (
        TicketStatus.RESOLVED,
        resolution,
        now,
        now,
    )
    ticket.assigned_to = ticket.assigned_to or agent
    session.add(
        m.TicketMessage(
            ticket_id=ticket.id,
            at=now,
            author=Author.SYSTEM,
            agent=agent,
            text=f"{resolution.replace('_', ' ')} by {agent}",
        )
    )
    return ticket


def active_conversations(session: Session) -> List[str]:
    """Conversations a person owns now (the bot stays silent in them)."""
    return list(
        session.execute(select(m.Ticket.conversation_id).where(m.Ticket.status != TicketStatus.RESOLVED)).scalars()
    )
