"""Dunning: retries past_due subscriptions on schedule and moves them to the free plan when the grace period ends.

    python -m support.cli dunning        (make dunning; cron: see README)

Idempotent and safe to run twice at once: every decision is taken with the subscription row
locked, retries go through payment_retry (one charge per attempt key, none while one is in
flight), and a downgrade happens only to a subscription still past_due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import List

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.billing.payment_retry import (
    RetryOutcome,
    charge,
    finish_attempt,
    reconcile_unknown,
    start_attempt,
)
from support.db import models as m
from support.db.engine import session_scope
from support.db.queries import admin_user, audit, free_plan, open_invoice, queue_email
from support.payments.port import PaymentGateway
from support.settings import product
from support.vocabulary import (
    AttemptOutcome,
    InvoiceStatus,
    SubscriptionStatus,
    TriggeredBy,
)


@dataclass
class DunningReport:
    retried: List[str] = field(default_factory=list)
    downgraded: List[str] = field(default_factory=list)


def _downgrade_if_grace_over(session: Session, subscription_id: int, now: datetime) -> tuple[bool, bool, str]:
    """Returns (downgraded, retry_due, admin email) for one subscription, with its row locked."""
    subscription = session.execute(
        select(m.Subscription).where(m.Subscription.id == subscription_id).with_for_update()
    ).scalar_one()
    admin_row = admin_user(session, subscription.account_id)
    admin = admin_row.email if admin_row else ""
    if subscription.status != SubscriptionStatus.PAST_DUE:
        return False, False, admin
    invoice = open_invoice(session, subscription.account_id)
    if invoice is None:
        return False, False, admin
    attempts = (
        session.execute(
            select(m.PaymentAttempt)
            .where(m.PaymentAttempt.invoice_id == invoice.id)
            .order_by(m.PaymentAttempt.attempted_at)
        )
        .scalars()
        .all()
    )
    failures = [a for a in attempts if a.outcome == AttemptOutcome.FAILED]
    if not failures:
        return False, False, admin
    first = m.utc(failures[0].attempted_at)
    if now >= first + timedelta(days=product().grace_days):
        free, former = free_plan(session), subscription.plan.code
        subscription.status, subscription.plan_id, subscription.auto_renew = SubscriptionStatus.FREE, free.id, False
        invoice.status = InvoiceStatus.VOID
        details = {"invoice": invoice.id, "failed_attempts": len(failures), "plan": former}
        audit(session, "dunning", subscription.account_id, "subscription.downgraded_after_grace", None, details, now)
        if admin_row is not None:
            queue_email(
                session,
                subscription.account_id,
                admin,
                "downgraded_to_free",
                admin_row.language,
                details,
                f"downgrade-{invoice.id}",
                now,
            )
        return True, False, admin
    done = sum(1 for a in attempts if a.triggered_by == TriggeredBy.DUNNING)
    schedule = product().dunning_retry_days
    due = done < len(schedule) and now >= first + timedelta(days=schedule[done])
    return False, due, admin


def run_dunning(bind: Engine, gateway: PaymentGateway, now: datetime) -> DunningReport:
    report = DunningReport()
    reconcile_unknown(bind, gateway, now)  # settle lost answers first, by key, before deciding anything
    with session_scope(bind) as session:
        ids = (
            session.execute(select(m.Subscription.id).where(m.Subscription.status == SubscriptionStatus.PAST_DUE))
            .scalars()
            .all()
        )
    for subscription_id in ids:
        with session_scope(bind) as session:
            downgraded, due, admin = _downgrade_if_grace_over(session, subscription_id, now)
        if downgraded:
            report.downgraded.append(admin)
        if not due:
            continue
        with session_scope(bind) as session:
            pending = start_attempt(session, admin, now, max_per_day=0, triggered_by=TriggeredBy.DUNNING)
        if isinstance(pending, RetryOutcome):
            continue
        result = charge(gateway, pending)
        with session_scope(bind) as session:
            finish_attempt(session, pending, result, admin, "dunning", None, now)  # the receipt in the admin's language
        report.retried.append(admin)
    return report
