"""Demo accounts (README table), dated relative to the day they are loaded so they never go stale.

python -m support.cli demo-data [--reset]
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import session_scope
from support.vocabulary import AttemptOutcome, Cycle, Edition, FailureReason, InvoiceStatus, Role, SubscriptionStatus

PLANS = [  # code, name, monthly, yearly (minor units, EUR), users, storage GB
    ("free", "Free", 0, 0, 5, 5),
    ("basic", "Basic", 4900, 49000, 5, 24),
    ("standard", "Standard", 9900, 99000, 50, 100),
    ("professional", "Professional", 19900, 199000, 100, 1024),
]


def _plan(session: Session, code: str) -> m.Plan:
    return session.execute(select(m.Plan).where(m.Plan.code == code)).scalar_one()


def _account(session: Session, portal: str, name: str, **fields: Any) -> m.Account:
    account = m.Account(portal=portal, name=name, **fields)
    session.add(account)
    session.flush()
    return account


def _user(session: Session, account: m.Account, email: str, name: str, role: str, language: str) -> None:
    session.add(m.User(account_id=account.id, email=email, name=name, role=role, language=language))


def _subscription(
    session: Session, account: m.Account, plan: str, cycle: str, status: str, period_end: Optional[datetime]
) -> m.Subscription:
    subscription = m.Subscription(
        account_id=account.id,
        plan_id=_plan(session, plan).id,
        billing_cycle=cycle,
        status=status,
        current_period_end=period_end,
        auto_renew=status != SubscriptionStatus.FREE,
    )
    session.add(subscription)
    session.flush()
    return subscription


def _period(cycle: str) -> timedelta:
    return timedelta(days=30 if cycle == Cycle.MONTHLY else 365)


def _invoice(
    session: Session, subscription: m.Subscription, start: datetime, status: str, plan_code: Optional[str]
) -> m.Invoice:
    """The invoice of the period starting at `start`, priced at the plan of that period."""
    plan = _plan(session, plan_code) if plan_code else session.get(m.Plan, subscription.plan_id)
    amount = plan.monthly_price_minor if subscription.billing_cycle == Cycle.MONTHLY else plan.yearly_price_minor
    invoice = m.Invoice(
        account_id=subscription.account_id,
        subscription_id=subscription.id,
        amount_minor=amount,
        currency=plan.currency,
        period_start=start,
        period_end=start + _period(subscription.billing_cycle),
        status=status,
        created_at=start,
    )
    session.add(invoice)
    session.flush()
    return invoice


def _paid_history(
    session: Session, subscription: m.Subscription, last_start: datetime, periods: int, plan_code: Optional[str] = None
) -> None:
    """`periods` paid invoices, the latest starting at `last_start`, each paid on its first day."""
    for back in range(periods):
        invoice = _invoice(
            session,
            subscription,
            last_start - back * _period(subscription.billing_cycle),
            InvoiceStatus.PAID,
            plan_code,
        )
        session.add(
            m.PaymentAttempt(
                invoice_id=invoice.id,
                attempted_at=invoice.period_start,
                amount_minor=invoice.amount_minor,
                currency=invoice.currency,
                outcome=AttemptOutcome.SUCCEEDED,
                gateway_reference=f"demo_{invoice.id}",
            )
        )


def _failed_renewal(
    session: Session,
    subscription: m.Subscription,
    renewal: datetime,
    failures: list[tuple[datetime, str]],
    status: str = InvoiceStatus.OPEN,
    plan_code: Optional[str] = None,
) -> None:
    """An invoice for the period starting at `renewal`, with its failed payment attempts."""
    invoice = _invoice(session, subscription, renewal, status, plan_code)
    for at, reason in failures:
        session.add(
            m.PaymentAttempt(
                invoice_id=invoice.id,
                attempted_at=at,
                amount_minor=invoice.amount_minor,
                currency=invoice.currency,
                outcome=AttemptOutcome.FAILED,
                failure_reason=reason,
            )
        )


def load(session: Session, now: Optional[datetime] = None) -> None:
    """Fills an empty database with the plans and the six demo accounts."""
    now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    day = timedelta(days=1)
    for code, name, monthly, yearly, users, storage in PLANS:
        session.add(
            m.Plan(
                code=code,
                name=name,
                monthly_price_minor=monthly,
                yearly_price_minor=yearly,
                currency="EUR",
                max_users=users,
                storage_gb=storage,
            )
        )
    session.flush()

    acme = _account(session, "acme.bitrix24.com", "Acme", users_in_use=18, storage_used_mb=40_000)
    _user(session, acme, "admin@acme.example", "Alice Martin", Role.ADMIN, "fr")
    _user(session, acme, "member@acme.example", "Marc Petit", Role.MEMBER, "fr")
    sub = _subscription(session, acme, "professional", Cycle.MONTHLY, SubscriptionStatus.PAST_DUE, now - 3 * day)
    expired = now - 40 * day
    session.add(
        m.PaymentMethod(account_id=acme.id, brand="visa", last4="4242", exp_month=expired.month, exp_year=expired.year)
    )
    _paid_history(session, sub, now - 33 * day, periods=5)
    _failed_renewal(session, sub, now - 3 * day, [(now - 3 * day, FailureReason.CARD_EXPIRED)])

    globex = _account(session, "globex.bitrix24.com", "Globex", users_in_use=22, storage_used_mb=31_000)
    _user(session, globex, "admin@globex.example", "Grace Hopper", Role.ADMIN, "en")
    sub = _subscription(session, globex, "standard", Cycle.YEARLY, SubscriptionStatus.ACTIVE, now + 243 * day)
    _paid_history(session, sub, now - 122 * day, periods=2)
    session.add(
        m.PaymentMethod(account_id=globex.id, brand="mastercard", last4="5454", exp_month=12, exp_year=now.year + 3)
    )
    session.add(m.TelephonyBalance(account_id=globex.id, balance_minor=3500, currency="EUR"))

    initech = _account(session, "initech.bitrix24.com", "Initech", users_in_use=12, storage_used_mb=9_200)
    _user(session, initech, "admin@initech.example", "Bill Lumbergh", Role.ADMIN, "en")
    sub = _subscription(session, initech, "free", Cycle.MONTHLY, SubscriptionStatus.FREE, None)
    session.add(m.PaymentMethod(account_id=initech.id, brand="visa", last4="1881", exp_month=6, exp_year=now.year + 1))
    failed = now - 25 * day  # on Basic until then: the failed renewal was for Basic's price
    _paid_history(session, sub, failed - 30 * day, periods=4, plan_code="basic")
    _failed_renewal(
        session,
        sub,
        failed,
        [
            (failed, FailureReason.INSUFFICIENT_FUNDS),
            (failed + 4 * day, FailureReason.INSUFFICIENT_FUNDS),
            (failed + 9 * day, FailureReason.CARD_LIMIT_REACHED),
        ],
        status=InvoiceStatus.VOID,
        plan_code="basic",
    )

    umbrella = _account(session, "umbrella.bitrix24.com", "Umbrella", users_in_use=9, storage_used_mb=12_000)
    _user(session, umbrella, "admin@umbrella.example", "Albert Wesker", Role.ADMIN, "en")
    sub = _subscription(session, umbrella, "standard", Cycle.MONTHLY, SubscriptionStatus.PAST_DUE, now - 5 * day)
    session.add(
        m.PaymentMethod(account_id=umbrella.id, brand="mastercard", last4="4444", exp_month=3, exp_year=now.year + 2)
    )
    _paid_history(session, sub, now - 35 * day, periods=4)
    _failed_renewal(
        session,
        sub,
        now - 5 * day,
        [(now - 5 * day, FailureReason.INSUFFICIENT_FUNDS), (now - 2 * day, FailureReason.INSUFFICIENT_FUNDS)],
    )

    hooli = _account(
        session,
        "hooli.example",
        "Hooli",
        edition=Edition.ON_PREMISE,
        users_in_use=250,
        storage_used_mb=0,
        account_manager="Nadia Roussel, Hooli's account manager (nadia.roussel@partner.example)",
    )
    _user(session, hooli, "admin@hooli.example", "Gavin Belson", Role.ADMIN, "en")
    sub = _subscription(session, hooli, "professional", Cycle.YEARLY, SubscriptionStatus.ACTIVE, now + 120 * day)
    _paid_history(session, sub, now - 245 * day, periods=1)


def reset(session: Session) -> None:
    """Removes every row (demo databases only)."""
    for table in reversed(m.Base.metadata.sorted_tables):
        session.execute(delete(table))


def ensure_loaded(reset_first: bool = False) -> bool:
    """Loads the demo data unless it is already there; returns True when it loaded."""
    with session_scope() as session:
        if reset_first:
            reset(session)
        elif session.execute(select(m.Plan.id).limit(1)).first():
            return False
        load(session)
        return True


def demo_users(session: Session) -> List[Dict[str, str]]:
    """Every user with their account, for the demo page's "Sign in as" list."""
    rows = session.execute(select(m.User, m.Account).join(m.Account).order_by(m.Account.id, m.User.id)).all()
    return [
        {"email": user.email, "name": user.name, "role": user.role, "portal": account.portal, "language": user.language}
        for user, account in rows
    ]
