"""A customer's invoices: the recent ones as plain data, a copy by email, and the billing history an agent
needs for a disputed charge."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support import i18n
from support.db import models as m
from support.db.queries import audit, queue_email
from support.vocabulary import InvoiceStatus

RECENT = 6  # invoices shown in the chat
STATUS_KEYS = {
    InvoiceStatus.PAID: "invoice.status.paid",
    InvoiceStatus.OPEN: "invoice.status.open",
    InvoiceStatus.VOID: "invoice.status.void",
}


def status_text(language: str, status: str) -> str:
    """An invoice's status as the customer reads it: paid, unpaid, cancelled."""
    return i18n.text(language, STATUS_KEYS[InvoiceStatus(status)])


@dataclass(frozen=True)
class InvoiceLine:
    id: int
    issued: datetime
    period_start: datetime
    period_end: datetime
    amount_minor: int
    currency: str
    status: str


@dataclass(frozen=True)
class AttemptLine:
    at: datetime
    amount_minor: int
    currency: str
    outcome: str
    failure_reason: Optional[str]
    triggered_by: str


def recent_invoices(session: Session, account_id: int, limit: int = RECENT) -> List[InvoiceLine]:
    """The account's latest invoices, newest first."""
    rows = session.execute(
        select(m.Invoice).where(m.Invoice.account_id == account_id).order_by(m.Invoice.created_at.desc()).limit(limit)
    ).scalars()
    return [
        InvoiceLine(
            row.id,
            m.utc(row.created_at),
            m.utc(row.period_start),
            m.utc(row.period_end),
            row.amount_minor,
            row.currency,
            row.status,
        )
        for row in rows
    ]


def recent_attempts(session: Session, account_id: int, limit: int = 10) -> List[AttemptLine]:
    """The account's latest payment attempts, newest first (a disputed charge starts here)."""
    rows = session.execute(
        select(m.PaymentAttempt)
        .join(m.Invoice, m.Invoice.id == m.PaymentAttempt.invoice_id)
        .where(m.Invoice.account_id == account_id)
        .order_by(m.PaymentAttempt.attempted_at.desc())
        .limit(limit)
    ).scalars()
    return [
        AttemptLine(
            m.utc(row.attempted_at), row.amount_minor, row.currency, row.outcome, row.failure_reason, row.triggered_by
        )
        for row in rows
    ]


def send_copies(
    session: Session,
    requester: str,
    account_id: int,
    to: str,
    invoices: List[InvoiceLine],
    conversation_id: str,
    language: str,
    now: datetime,
) -> bool:
    """Queues one email with copies of `invoices` to `to` (the account's admin). Asking again for the same
    invoices queues nothing more: returns False when that email was already queued."""
    if not invoices:
        return False
    key = f"invoice_copies:{account_id}:{to}:{','.join(str(line.id) for line in invoices)}"
    payload = {"invoice_ids": [line.id for line in invoices], "requested_by": requester}
    try:
        with session.begin_nested():  # a savepoint: the duplicate is refused without undoing the rest
            queue_email(session, account_id, to, "invoice_copies", language, payload, key, now)
    except IntegrityError:
        return False
    audit(session, requester, account_id, "invoices.copy_sent", conversation_id, payload, now)
    return True
