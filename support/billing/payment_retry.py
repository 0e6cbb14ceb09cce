"""Retrying a failed renewal payment, with never two charges for one invoice.

1. In one transaction with the subscription row locked: check who asks and what is owed, refuse
   when an attempt is already in flight or the rate limit is reached, and record a `pending`
   attempt under a unique idempotency key (invoice + attempt number).
2. Outside any lock: ask the gateway to charge with that key.
3. In a second transaction: record the outcome and, on success, renew the subscription and write
   the audit log and the receipt email. When the gateway gave no usable answer (a timeout, an API
   error, any exception) the attempt becomes `unknown`: it is settled later by looking its key up
   (`reconcile_unknown`), never by charging again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import session_scope
from support.db.queries import (
    admin_user,
    audit,
    default_card,
    locked_subscription,
    open_invoice,
    queue_email,
)
from support.payments.port import Card, ChargeResult, PaymentGateway
from support.vocabulary import (
    AttemptOutcome,
    InvoiceStatus,
    Role,
    SubscriptionStatus,
    TriggeredBy,
)

logger = logging.getLogger(__name__)

IN_FLIGHT = (AttemptOutcome.PENDING, AttemptOutcome.UNKNOWN)
# A `pending` attempt this old lost its process between steps 1 and 3: it is reconciled like an unknown one.
STALE_PENDING = timedelta(minutes=10)
# A success this recent is the one a customer's yes handled again is about (its replica died before answering).
JUST_PAID = timedelta(minutes=10)


@dataclass(frozen=True)
class RetryOutcome:
    # succeeded, declined, unknown, in_progress, rate_limited, card_expired, already_paid,
    # not_past_due, not_admin, unknown_user. already_paid with renewed_until: an attempt of the last minutes
    # paid it (the customer's yes handled again after the replica that charged died, or a second tab).
    status: str
    failure_reason: Optional[str] = None
    renewed_until: Optional[datetime] = None


@dataclass(frozen=True)
class PendingCharge:
    """A pending attempt, recorded and committed before the gateway is called."""

    attempt_id: int
    idempotency_key: str
    amount_minor: int
    currency: str
    card: Optional[Card]


def start_attempt(
    session: Session, email: str, now: datetime, max_per_day: int, triggered_by: TriggeredBy = TriggeredBy.BOT
) -> RetryOutcome | PendingCharge:
    """Step 1: a PendingCharge when a charge may go ahead, otherwise why not."""
    user, subscription = locked_subscription(session, email)
    if user is None or subscription is None:
        return RetryOutcome("unknown_user")
    if triggered_by == TriggeredBy.BOT and user.role != Role.ADMIN:
        return RetryOutcome("not_admin")
    invoice = open_invoice(session, user.account_id)
    if subscription.status != SubscriptionStatus.PAST_DUE or invoice is None:
        if subscription.status != SubscriptionStatus.ACTIVE:
            return RetryOutcome("not_past_due")
        just_paid = _paid_since(session, user.account_id, now - JUST_PAID)
        return RetryOutcome("already_paid", renewed_until=m.utc(subscription.current_period_end) if just_paid else None)
    attempts = (
        session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.invoice_id == invoice.id)).scalars().all()
    )
    if any(a.outcome in IN_FLIGHT for a in attempts):
        return RetryOutcome("in_progress")
    card = default_card(session, user.account_id)
    if card is None or card.expired(now):
        return RetryOutcome("card_expired")
    recent = [a for a in attempts if a.triggered_by == triggered_by and m.utc(a.attempted_at) > now - timedelta(days=1)]
    if triggered_by == TriggeredBy.BOT and len(recent) >= max_per_day:
        return RetryOutcome("rate_limited")
    attempt = m.PaymentAttempt(
        invoice_id=invoice.id,
        attempted_at=now,
        amount_minor=invoice.amount_minor,
        currency=invoice.currency,
        outcome=AttemptOutcome.PENDING,
        triggered_by=triggered_by,
        idempotency_key=f"invoice-{invoice.id}-attempt-{len(attempts) + 1}",
    )
    session.add(attempt)
    session.flush()
    return PendingCharge(attempt.id, attempt.idempotency_key, invoice.amount_minor, invoice.currency, card)


def _paid_since(session: Session, account_id: int, since: datetime) -> bool:
    """Whether an attempt on the account's invoices succeeded since `since`."""
    query = (
        select(m.PaymentAttempt.id)
        .join(m.Invoice, m.Invoice.id == m.PaymentAttempt.invoice_id)
        .where(
            m.Invoice.account_id == account_id,
            m.PaymentAttempt.outcome == AttemptOutcome.SUCCEEDED,
            m.PaymentAttempt.attempted_at >= since,
        )
        .limit(1)
    )
    return session.execute(query).first() is not None


def charge(gateway: PaymentGateway, pending: PendingCharge) -> Optional[ChargeResult]:
    """Step 2: the gateway's answer, or None when there is none to trust (a timeout, an error of any kind)."""
    if pending.card is None:
        return None
    try:
        return gateway.charge(
            amount_minor=pending.amount_minor,
            currency=pending.currency,
            card=pending.card,
            idempotency_key=pending.idempotency_key,
        )
    except Exception as error:  # noqa: BLE001 - whatever went wrong, the charge may have happened: reconcile by key
        logger.warning("payment %s: no answer from the gateway (%s)", pending.idempotency_key, type(error).__name__)
        return None


def finish_attempt(
    session: Session,
    pending: PendingCharge,
    result: Optional[ChargeResult],
    actor: str,
    conversation_id: str,
    language: Optional[str],
    now: datetime,
) -> RetryOutcome:
    """Step 3: records what the gateway said (None: no answer, the attempt stays unknown). The receipt goes
    to the account's admin in `language`, or in the admin's own language when None (dunning, reconciliation)."""
    attempt = session.execute(
        select(m.PaymentAttempt).where(m.PaymentAttempt.id == pending.attempt_id).with_for_update()
    ).scalar_one()
    invoice = session.get(m.Invoice, attempt.invoice_id)
    details = {
        "invoice": invoice.id,
        "key": pending.idempotency_key,
        "amount_minor": pending.amount_minor,
        "currency": pending.currency,
    }
    if result is None:
        attempt.outcome = AttemptOutcome.UNKNOWN
        audit(session, actor, invoice.account_id, "payment.retry_unknown", conversation_id, details, now)
        return RetryOutcome("unknown")
    attempt.outcome, attempt.failure_reason, attempt.gateway_reference = (
        result.outcome,
        result.failure_reason,
        result.reference,
    )
    if result.outcome != AttemptOutcome.SUCCEEDED:
        audit(
            session,
            actor,
            invoice.account_id,
            "payment.retry_declined",
            conversation_id,
            {**details, "reason": result.failure_reason},
            now,
        )
        return RetryOutcome("declined", failure_reason=result.failure_reason)
    invoice.status = InvoiceStatus.PAID
    subscription = session.get(m.Subscription, invoice.subscription_id)
    subscription.status, subscription.current_period_end = SubscriptionStatus.ACTIVE, invoice.period_end
    audit(session, actor, invoice.account_id, "payment.retry_succeeded", conversation_id, details, now)
    admin = admin_user(session, invoice.account_id)
    if admin is not None:
        queue_email(
            session,
            invoice.account_id,
            admin.email,
            "payment_receipt",
            language or admin.language,
            {**details, "renewed_until": invoice.period_end.isoformat()},
            f"receipt-{pending.idempotency_key}",
            now,
        )
    return RetryOutcome("succeeded", renewed_until=m.utc(invoice.period_end))


def retry_payment(
    engine: Engine,
    gateway: PaymentGateway,
    email: str,
    conversation_id: str,
    language: str,
    now: datetime,
    max_per_day: int,
) -> RetryOutcome:
    """The three steps; safe to call from many tabs, processes or re-deliveries at once."""
    with session_scope(engine) as session:
        pending = start_attempt(session, email, now, max_per_day)
    if isinstance(pending, RetryOutcome):
        return pending
    result = charge(gateway, pending)
    with session_scope(engine) as session:
        return finish_attempt(session, pending, result, email, conversation_id, language, now)


def _unsettled(engine: Engine, now: datetime) -> List[Tuple[PendingCharge, int]]:
    """Attempts whose answer was lost (unknown), or whose process died mid-charge (pending for too long)."""
    with session_scope(engine) as session:
        rows = (
            session.execute(
                select(m.PaymentAttempt).where(
                    or_(
                        m.PaymentAttempt.outcome == AttemptOutcome.UNKNOWN,
                        (m.PaymentAttempt.outcome == AttemptOutcome.PENDING)
                        & (m.PaymentAttempt.attempted_at < now - STALE_PENDING),
                    )
                )
            )
            .scalars()
            .all()
        )
        return [
            (PendingCharge(a.id, a.idempotency_key or "", a.amount_minor, a.currency, None), a.invoice_id)
            for a in rows
            if a.idempotency_key
        ]


def reconcile_unknown(engine: Engine, gateway: PaymentGateway, now: datetime) -> int:
    """Settles attempts whose gateway answer was lost, by looking their key up (never charging again).
    One the gateway does not know stays `unknown` (a stale `pending` one becomes `unknown`): still in flight."""
    settled = 0
    for pending, invoice_id in _unsettled(engine, now):
        try:
            result = gateway.lookup(pending.idempotency_key)
        except Exception as error:  # noqa: BLE001 - try again at the next pass
            logger.warning("payment %s: lookup failed (%s)", pending.idempotency_key, type(error).__name__)
            result = None
        with session_scope(engine) as session:
            account_id = session.get(m.Invoice, invoice_id).account_id
            admin = admin_user(session, account_id)
            actor = admin.email if admin else "reconciliation"
            if result is None:
                session.get(m.PaymentAttempt, pending.attempt_id).outcome = AttemptOutcome.UNKNOWN
                continue
            finish_attempt(session, pending, result, actor, "reconciliation", None, now)
        settled += 1
    return settled
