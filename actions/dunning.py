"""Dunning: retries past_due subscriptions on schedule and moves them to the free plan when the grace period ends.

    python -m actions.dunning        (make dunning; cron: see README)

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

from actions import models as m
from actions.accounts import now_utc
from actions.db import engine, session_scope
from actions.gateway import PaymentGateway, configured_gateway
from actions.payment_retry import RetryOutcome, finish_attempt, reconcile_unknown, start_attempt
from actions.product import product
from actions.queries import admin_email, audit, open_invoice, queue_email


@dataclass
class DunningReport:
    retried: List[str] = field(default_factory=list)
    downgraded: List[str] = field(default_factory=list)


def _downgrade_if_grace_over(session: Session, subscription_id: int, now: datetime) -> tuple[bool, bool, str]:
    """Returns (downgraded, retry_due, admin email) for one subscription, with its row locked."""
    subscription = session.execute(select(m.Subscription).where(m.Subscription.id == subscription_id)
                                   .with_for_update()).scalar_one()
    admin = admin_email(session, subscription.account_id)
    if subscription.status != "past_due":
        return False, False, admin
    invoice = open_invoice(session, subscription.account_id)
    if invoice is None:
        return False, False, admin
    attempts = session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.invoice_id == invoice.id)
                               .order_by(m.PaymentAttempt.attempted_at)).scalars().all()
    failures = [a for a in attempts if a.outcome == "failed"]
    if not failures:
        return False, False, admin
    first = m.utc(failures[0].attempted_at)
    if now >= first + timedelta(days=int(product()["grace_days"])):
        free = session.execute(select(m.Plan).where(m.Plan.code == "free")).scalar_one()
        subscription.status, subscription.plan_id, subscription.auto_renew = "free", free.id, False
        invoice.status = "void"
        details = {"invoice": invoice.id, "failed_attempts": len(failures)}
        audit(session, "dunning", subscription.account_id, "subscription.downgraded_after_grace", None, details, now)
        language = session.execute(select(m.User.language).where(m.User.email == admin)).scalar_one_or_none() or "en"
        queue_email(session, admin, "downgraded_to_free", language, details, f"downgrade-{invoice.id}", now)
        return True, False, admin
    done = sum(1 for a in attempts if a.triggered_by == "dunning")
    schedule = [int(days) for days in product()["dunning_retry_days"]]
    due = done < len(schedule) and now >= first + timedelta(days=schedule[done])
    return False, due, admin


def run_dunning(bind: Engine, gateway: PaymentGateway, now: datetime) -> DunningReport:
    report = DunningReport()
    reconcile_unknown(bind, gateway, now)  # settle lost answers first, by key, before deciding anything
    with session_scope(bind) as session:
        ids = session.execute(select(m.Subscription.id).where(m.Subscription.status == "past_due")).scalars().all()
    for subscription_id in ids:
        with session_scope(bind) as session:
            downgraded, due, admin = _downgrade_if_grace_over(session, subscription_id, now)
        if downgraded:
            report.downgraded.append(admin)
        if not due:
            continue
        with session_scope(bind) as session:
            ticket = start_attempt(session, admin, now, max_per_day=0, triggered_by="dunning")
        if isinstance(ticket, RetryOutcome):
            continue
        try:
            result = gateway.charge(amount_minor=ticket.amount_minor, currency=ticket.currency,
                                    card=ticket.card, idempotency_key=ticket.idempotency_key)
        except Exception:  # a timeout or a gateway error: the attempt stays unknown, to reconcile
            result = None
        with session_scope(bind) as session:
            finish_attempt(session, ticket, result, admin, "dunning", "en", now)
        report.retried.append(admin)
    return report


if __name__ == "__main__":
    outcome = run_dunning(engine(), configured_gateway(), now_utc())
    print(f"retried: {len(outcome.retried)}, downgraded to free: {len(outcome.downgraded)}")
