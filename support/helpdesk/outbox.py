"""The durable outbox towards an external helpdesk: new tickets and later customer messages.

Rows are written in the transaction that creates the ticket or the message, so nothing is lost;
the worker (worker.py) delivers them. Every row has an idempotency key that each request carries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import session_scope
from support.settings import helpdesk_mode


def ticket_fields(session: Session, ticket: m.Ticket) -> Dict[str, Any]:
    """What both the helpdesk and the agent console show of a ticket."""
    account = session.get(m.Account, ticket.account_id) if ticket.account_id else None
    return {
        "reference": ticket.reference,
        "channel": ticket.channel,
        "language": ticket.language,
        "reason": ticket.reason,
        "topic": ticket.topic,
        "account": account.portal if account else None,
        "user": ticket.user_email,
        "created_at": m.utc(ticket.created_at).isoformat(),
    }


def ticket_data(session: Session, ticket: m.Ticket) -> Dict[str, Any]:
    return {**ticket_fields(session, ticket), "conversation_id": ticket.conversation_id, "summary": ticket.summary}


def message_data(message: m.TicketMessage) -> Dict[str, Any]:
    return {"at": m.utc(message.at).isoformat(), "author": message.author, "agent": message.agent, "text": message.text}


def _add(session: Session, ticket: m.Ticket, kind: str, key: str, payload: Dict[str, Any], now: datetime) -> None:
    if helpdesk_mode() == "off":
        return
    payload = {"event": kind, "idempotency_key": key, "occurred_at": now.isoformat(), **payload}
    session.add(
        m.HelpdeskDelivery(
            ticket_id=ticket.id,
            kind=kind,
            payload=payload,
            idempotency_key=key,
            created_at=now,
            attempts=0,
            next_attempt_at=now,
            progress={},
        )
    )


def enqueue(session: Session, ticket: m.Ticket, kind: str, now: datetime) -> None:
    """A new (or reopened) ticket with its transcript so far."""
    count = session.execute(
        select(m.HelpdeskDelivery.id).where(m.HelpdeskDelivery.ticket_id == ticket.id, m.HelpdeskDelivery.kind == kind)
    ).all()
    key = f"{ticket.reference}-{kind.split('.')[1]}-{len(count) + 1}"
    transcript = [
        message_data(message)
        for message in session.execute(
            select(m.TicketMessage).where(m.TicketMessage.ticket_id == ticket.id).order_by(m.TicketMessage.id)
        ).scalars()
    ]
    _add(session, ticket, kind, key, {"ticket": ticket_data(session, ticket), "transcript": transcript}, now)


def enqueue_message(session: Session, ticket: m.Ticket, message: m.TicketMessage, now: datetime) -> None:
    """A customer message written after the ticket was created."""
    _add(
        session,
        ticket,
        "message.created",
        f"{ticket.reference}-message-{message.id}",
        {"ticket": {"reference": ticket.reference}, "message": message_data(message)},
        now,
    )


def pending_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(
            session.execute(select(m.HelpdeskDelivery.id).where(m.HelpdeskDelivery.delivered_at.is_(None))).all()
        )
