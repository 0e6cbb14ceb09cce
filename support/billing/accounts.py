"""What the assistant may know about a signed-in customer: one read of the database, as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.queries import default_card, free_plan
from support.payments.port import Card
from support.settings import product
from support.vocabulary import (
    AttemptOutcome,
    Cycle,
    InvoiceStatus,
    Role,
    SubscriptionStatus,
)


@dataclass(frozen=True)
class AccountView:
    email: str
    role: str
    account_id: int
    portal: str
    edition: str
    account_manager: Optional[str]
    admin_email: str
    plan_code: str
    plan_name: str
    billing_cycle: str
    price_minor: int
    currency: str
    status: str
    period_end: Optional[datetime]
    cancel_at_period_end: bool
    discount_percent: int
    card: Optional[Card]
    last_failure_reason: Optional[str]
    first_failure_at: Optional[datetime]
    failed_attempts: int
    telephony_minor: int
    telephony_currency: str
    users_in_use: int
    storage_used_mb: int
    plan_max_users: int
    plan_storage_gb: int
    free_max_users: int
    free_storage_gb: int

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def grace_end(self) -> Optional[datetime]:
        """The first failed renewal plus the configured grace period."""
        if self.first_failure_at is None:
            return None
        return self.first_failure_at + timedelta(days=product().grace_days)

    def grace_days_left(self, now: datetime) -> int:
        end = self.grace_end
        return max(0, (end.date() - now.date()).days) if end else 0

    @property
    def over_free_limits(self) -> bool:
        return self.users_in_use > self.free_max_users or self.storage_used_mb > self.free_storage_gb * 1024


def _failures(session: Session, account_id: int, only_open: bool) -> list[m.PaymentAttempt]:
    """Failed attempts of the latest invoice (open only, or any) for this account, oldest first."""
    invoices = select(m.Invoice).where(m.Invoice.account_id == account_id)
    if only_open:
        invoices = invoices.where(m.Invoice.status == InvoiceStatus.OPEN)
    invoice = session.execute(invoices.order_by(m.Invoice.created_at.desc()).limit(1)).scalar_one_or_none()
    if invoice is None:
        return []
    return list(
        session.execute(
            select(m.PaymentAttempt)
            .where(m.PaymentAttempt.invoice_id == invoice.id, m.PaymentAttempt.outcome == AttemptOutcome.FAILED)
            .order_by(m.PaymentAttempt.attempted_at)
        ).scalars()
    )


def account_view(session: Session, email: str) -> Optional[AccountView]:
    """Everything the answers need about the customer `email`, or None if unknown."""
    user = session.execute(select(m.User).where(m.User.email == email.lower())).scalar_one_or_none()
    if user is None:
        return None
    account = user.account
    subscription = account.subscription
    plan = subscription.plan
    free = free_plan(session)
    admin = next((u for u in account.users if u.role == Role.ADMIN), user)
    balance = session.get(m.TelephonyBalance, account.id)
    failures = _failures(session, account.id, only_open=subscription.status == SubscriptionStatus.PAST_DUE)
    price = plan.monthly_price_minor if subscription.billing_cycle == Cycle.MONTHLY else plan.yearly_price_minor
    return AccountView(
        email=user.email,
        role=user.role,
        account_id=account.id,
        portal=account.portal,
        edition=account.edition,
        account_manager=account.account_manager,
        admin_email=admin.email,
        plan_code=plan.code,
        plan_name=plan.name,
        billing_cycle=subscription.billing_cycle,
        price_minor=price,
        currency=plan.currency,
        status=subscription.status,
        period_end=m.utc(subscription.current_period_end) if subscription.current_period_end else None,
        cancel_at_period_end=subscription.cancel_at_period_end,
        discount_percent=subscription.discount_percent,
        card=default_card(session, account.id),
        last_failure_reason=failures[-1].failure_reason if failures else None,
        first_failure_at=m.utc(failures[0].attempted_at) if failures else None,
        failed_attempts=len(failures),
        telephony_minor=balance.balance_minor if balance else 0,
        telephony_currency=balance.currency if balance else "EUR",
        users_in_use=account.users_in_use,
        storage_used_mb=account.storage_used_mb,
        plan_max_users=plan.max_users,
        plan_storage_gb=plan.storage_gb,
        free_max_users=free.max_users,
        free_storage_gb=free.storage_gb,
    )
