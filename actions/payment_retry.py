"""Retrying a failed renewal payment, with never two charges for one invoice.

1. In one transaction with the subscription row locked: check who asks and what is owed, refuse
   when an attempt is already in flight or the rate limit is reached, and record a `pending`
   attempt under a unique idempotency key (invoice + attempt number).
2. Outside any lock: ask the gateway to charge with that key.
3. In a second transaction: record the outcome (a timeout leaves it `unknown`, to be reconciled
   by looking the key up, never by charging again), renew the subscription on success, and write
   the audit log and the receipt email.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions import models as m
from actions.queries import Card
from actions.db import session_scope
from actions.gateway import ChargeResult, GatewayTimeout, PaymentGateway
from actions.queries import admin_email, audit, default_card, locked_subscription, open_invoice, queue_email

IN_FLIGHT = ("pending", "unknown")


@dataclass(frozen=True)
class RetryOutcome:
    # succeeded, declined, unknown, in_progress, rate_limited, card_expired, already_paid,
    # not_past_due, not_admin, unknown_user
    status: str
    failure_reason: Optional[str] = None
    renewed_until: Optional[datetime] = None


@dataclass(frozen=True)
class Ticket:
    """A pending attempt, recorded and committed before the gateway is called."""

    attempt_id: int
    idempotency_key: str
    amount_minor: int
    currency: str
    card: Card


def start_attempt(session: Session, email: str, now: datetime, max_per_day: int,
                  triggered_by: str = "bot") -> RetryOutcome | Ticket:
    """Step 1: a Ticket when a charge may go ahead, otherwise why not."""
    user, subscription = locked_subscription(session, email)
    if user is None or subscription is None:
        return RetryOutcome("unknown_user")
    if triggered_by == "bot" and user.role != "admin":
        return RetryOutcome("not_admin")
    invoice = open_invoice(session, user.account_id)
    if subscription.status != "past_due" or invoice is None:
        return RetryOutcome("already_paid" if subscription.status == "active" else "not_past_due")
    attempts = session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.invoice_id == invoice.id)).scalars().all()
    if any(a.outcome in IN_FLIGHT for a in attempts):
        return RetryOutcome("in_progress")
    card = default_card(session, user.account_id)
    if card is None or card.expired(now):
        return RetryOutcome("card_expired")
    recent = [a for a in attempts if a.triggered_by == triggered_by and m.utc(a.attempted_at) > now - timedelta(days=1)]
    if triggered_by == "bot" and len(recent) >= max_per_day:
        return RetryOutcome("rate_limited")
    attempt = m.PaymentAttempt(invoice_id=invoice.id, attempted_at=now, amount_minor=invoice.amount_minor,
                               currency=invoice.currency, outcome="pending", triggered_by=triggered_by,
                               idempotency_key=f"invoice-{invoice.id}-attempt-{len(attempts) + 1}")
    session.add(attempt)
    session.flush()
    return Ticket(attempt.id, attempt.idempotency_key, invoice.amount_minor, invoice.currency, card)


def finish_attempt(session: Session, ticket: Ticket, result: Optional[ChargeResult], actor: str,
                   conversation_id: str, language: str, now: datetime) -> RetryOutcome:
    """Step 3: records what the gateway said (None: no answer, the attempt stays unknown)."""
    attempt = session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.id == ticket.attempt_id)
                              .with_for_update()).scalar_one()
    invoice = session.get(m.Invoice, attempt.invoice_id)
    details = {"invoice": invoice.id, "key": ticket.idempotency_key, "amount_minor": ticket.amount_minor,
               "currency": ticket.currency}
    if result is None:
        attempt.outcome = "unknown"
        audit(session, actor, invoice.account_id, "payment.retry_unknown", conversation_id, details, now)
        return RetryOutcome("unknown")
    attempt.outcome, attempt.failure_reason, attempt.gateway_reference = result.outcome, result.failure_reason, result.reference
    if result.outcome != "succeeded":
        audit(session, actor, invoice.account_id, "payment.retry_declined", conversation_id,
               {**details, "reason": result.failure_reason}, now)
        return RetryOutcome("declined", failure_reason=result.failure_reason)
    invoice.status = "paid"
    subscription = session.get(m.Subscription, invoice.subscription_id)
    subscription.status, subscription.current_period_end = "active", invoice.period_end
    audit(session, actor, invoice.account_id, "payment.retry_succeeded", conversation_id, details, now)
    queue_email(session, admin_email(session, invoice.account_id), "payment_receipt", language,
                {**details, "renewed_until": invoice.period_end.isoformat()}, f"receipt-{ticket.idempotency_key}", now)
    return RetryOutcome("succeeded", renewed_until=m.utc(invoice.period_end))


def retry_payment(engine: Engine, gateway: PaymentGateway, email: str, conversation_id: str, language: str,
                  now: datetime, max_per_day: int) -> RetryOutcome:
    """The three steps; safe to call from many tabs, processes or re-deliveries at once."""
    with session_scope(engine) as session:
        ticket = start_attempt(session, email, now, max_per_day)
    if isinstance(ticket, RetryOutcome):
        return ticket
    try:
        result: Optional[ChargeResult] = gateway.charge(amount_minor=ticket.amount_minor, currency=ticket.currency,
                                                        card=ticket.card, idempotency_key=ticket.idempotency_key)
    except GatewayTimeout:
        result = None
    with session_scope(engine) as session:
        return finish_attempt(session, ticket, result, email, conversation_id, language, now)


def reconcile_unknown(engine: Engine, gateway: PaymentGateway, now: datetime) -> int:
    """Settles attempts whose gateway answer was lost, by looking their key up (never charging again)."""
    with session_scope(engine) as session:
        unknown = session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.outcome == "unknown")).scalars().all()
        tickets = [(a.id, a.idempotency_key, a.amount_minor, a.currency, a.invoice_id) for a in unknown]
    settled = 0
    for attempt_id, key, amount, currency, invoice_id in tickets:
        result = gateway.lookup(key)
        if result is None:
            continue
        with session_scope(engine) as session:
            account_id = session.get(m.Invoice, invoice_id).account_id
            ticket = Ticket(attempt_id, key, amount, currency, default_card(session, account_id))
            finish_attempt(session, ticket, result, admin_email(session, account_id), "reconciliation", "en", now)
        settled += 1
    return settled

