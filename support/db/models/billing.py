"""Accounts, users, subscriptions and payments (SQLAlchemy 1.4, 2.0 style).

Money in integer minor units; times in UTC. Vocabulary columns are checked by the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional

from sqlalchemy import JSON, Boolean, Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, relationship

from support.db.models.base import Base, one_of
from support.vocabulary import (
    AttemptOutcome,
    Cycle,
    Edition,
    FailureReason,
    InvoiceStatus,
    Role,
    SubscriptionStatus,
    TriggeredBy,
)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = Column(Integer, primary_key=True)
    code: Mapped[str] = Column(String(32), unique=True, nullable=False)  # free, basic, standard, professional
    name: Mapped[str] = Column(String(64), nullable=False)
    monthly_price_minor: Mapped[int] = Column(Integer, nullable=False, default=0)
    yearly_price_minor: Mapped[int] = Column(Integer, nullable=False, default=0)
    currency: Mapped[str] = Column(String(3), nullable=False, default="EUR")
    max_users: Mapped[int] = Column(Integer, nullable=False)
    storage_gb: Mapped[int] = Column(Integer, nullable=False)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (one_of("accounts", "edition", Edition),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    portal: Mapped[str] = Column(String(255), unique=True, nullable=False)  # acme.bitrix24.com
    name: Mapped[str] = Column(String(255), nullable=False)
    edition: Mapped[str] = Column(String(16), nullable=False, default=Edition.CLOUD.value)
    users_in_use: Mapped[int] = Column(Integer, nullable=False, default=1)
    storage_used_mb: Mapped[int] = Column(Integer, nullable=False, default=0)
    account_manager: Mapped[Optional[str]] = Column(String(255))  # on-premise: manager or partner
    users = relationship("User", back_populates="account", order_by="User.id")
    subscription = relationship("Subscription", back_populates="account", uselist=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (one_of("users", "role", Role),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), nullable=False, index=True)
    email: Mapped[str] = Column(String(255), unique=True, nullable=False)
    name: Mapped[str] = Column(String(255), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False, default=Role.MEMBER.value)
    language: Mapped[str] = Column(String(2), nullable=False, default="en")
    account = relationship("Account", back_populates="users")


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = (
        one_of("subscriptions", "status", SubscriptionStatus),
        one_of("subscriptions", "billing_cycle", Cycle),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), unique=True, nullable=False)
    plan_id: Mapped[int] = Column(ForeignKey("plans.id"), nullable=False)
    billing_cycle: Mapped[str] = Column(String(16), nullable=False, default=Cycle.MONTHLY.value)
    status: Mapped[str] = Column(String(16), nullable=False, default=SubscriptionStatus.ACTIVE.value)
    current_period_end: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    auto_renew: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    cancel_at_period_end: Mapped[bool] = Column(Boolean, nullable=False, default=False)
    canceled_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    discount_percent: Mapped[int] = Column(Integer, nullable=False, default=0)  # accepted retention offer
    discount_until: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    account = relationship("Account", back_populates="subscription")
    plan = relationship("Plan")


class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), nullable=False, index=True)
    brand: Mapped[str] = Column(String(32), nullable=False)
    last4: Mapped[str] = Column(String(4), nullable=False)
    exp_month: Mapped[int] = Column(Integer, nullable=False)
    exp_year: Mapped[int] = Column(Integer, nullable=False)
    is_default: Mapped[bool] = Column(Boolean, nullable=False, default=True)
    gateway_customer: Mapped[Optional[str]] = Column(String(64))  # e.g. Stripe cus_...
    gateway_method: Mapped[Optional[str]] = Column(String(64))  # e.g. Stripe pm_...


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (one_of("invoices", "status", InvoiceStatus),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), nullable=False, index=True)
    subscription_id: Mapped[int] = Column(ForeignKey("subscriptions.id"), nullable=False)
    amount_minor: Mapped[int] = Column(Integer, nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False)
    period_start: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default=InvoiceStatus.OPEN.value)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)


class PaymentAttempt(Base):
    __tablename__ = "payment_attempts"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        one_of("payment_attempts", "outcome", AttemptOutcome),
        one_of("payment_attempts", "failure_reason", FailureReason),
        one_of("payment_attempts", "triggered_by", TriggeredBy),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    invoice_id: Mapped[int] = Column(ForeignKey("invoices.id"), nullable=False, index=True)
    attempted_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    amount_minor: Mapped[int] = Column(Integer, nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False)
    outcome: Mapped[str] = Column(String(16), nullable=False)
    failure_reason: Mapped[Optional[str]] = Column(String(32))
    idempotency_key: Mapped[Optional[str]] = Column(String(128))  # one per invoice and attempt
    triggered_by: Mapped[str] = Column(String(16), nullable=False, default=TriggeredBy.RENEWAL.value)
    gateway_reference: Mapped[Optional[str]] = Column(String(128))


class TelephonyBalance(Base):
    __tablename__ = "telephony_balances"
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), primary_key=True)
    balance_minor: Mapped[int] = Column(Integer, nullable=False, default=0)
    currency: Mapped[str] = Column(String(3), nullable=False, default="EUR")


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = Column(Integer, primary_key=True)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    actor_email: Mapped[str] = Column(String(255), nullable=False)
    account_id: Mapped[Optional[int]] = Column(ForeignKey("accounts.id"), index=True)
    action: Mapped[str] = Column(String(64), nullable=False)
    conversation_id: Mapped[Optional[str]] = Column(String(255))
    details: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)


class OutboxEmail(Base):
    __tablename__ = "outbox_emails"
    __table_args__ = (UniqueConstraint("idempotency_key"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    account_id: Mapped[Optional[int]] = Column(ForeignKey("accounts.id"), index=True)
    to_email: Mapped[str] = Column(String(255), nullable=False)
    template: Mapped[str] = Column(String(64), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False)
    payload: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    idempotency_key: Mapped[str] = Column(String(128), nullable=False)
    sent_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    # delivery over SMTP (support/emails/worker.py): queued, sent, or failed for good after the last try
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0, server_default="0")
    next_attempt_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    last_error: Mapped[Optional[str]] = Column(String(255))
    failed_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    resend_of: Mapped[Optional[int]] = Column(ForeignKey("outbox_emails.id"))  # an admin's "send it again"


class SandboxCharge(Base):
    """The sandbox gateway's own ledger (a real provider keeps this on its side): one row per idempotency key."""

    __tablename__ = "sandbox_charges"
    __table_args__ = (
        one_of("sandbox_charges", "outcome", AttemptOutcome),
        one_of("sandbox_charges", "failure_reason", FailureReason),
    )
    idempotency_key: Mapped[str] = Column(String(128), primary_key=True)
    amount_minor: Mapped[int] = Column(Integer, nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False)
    outcome: Mapped[str] = Column(String(16), nullable=False)
    failure_reason: Mapped[Optional[str]] = Column(String(32))
    reference: Mapped[Optional[str]] = Column(String(160))
    charged_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
