"""The subscription database (SQLAlchemy 1.4, 2.0 style). Money in integer minor units; times in UTC."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declarative_base, relationship

Base = declarative_base()

EDITIONS = ("cloud", "on_premise")
ROLES = ("admin", "member")
CYCLES = ("monthly", "yearly")
STATUSES = ("active", "past_due", "canceled", "free")
FAILURE_REASONS = (
    "card_limit_reached",
    "card_expired",
    "insufficient_funds",
    "issuer_unavailable",
    "payment_system_error",
)


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


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
    id: Mapped[int] = Column(Integer, primary_key=True)
    portal: Mapped[str] = Column(String(255), unique=True, nullable=False)  # acme.bitrix24.com
    name: Mapped[str] = Column(String(255), nullable=False)
    edition: Mapped[str] = Column(String(16), nullable=False, default="cloud")
    users_in_use: Mapped[int] = Column(Integer, nullable=False, default=1)
    storage_used_mb: Mapped[int] = Column(Integer, nullable=False, default=0)
    account_manager: Mapped[Optional[str]] = Column(String(255))  # on-premise: manager or partner
    users = relationship("User", back_populates="account", order_by="User.id")
    subscription = relationship("Subscription", back_populates="account", uselist=False)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), nullable=False, index=True)
    email: Mapped[str] = Column(String(255), unique=True, nullable=False)
    name: Mapped[str] = Column(String(255), nullable=False)
    role: Mapped[str] = Column(String(16), nullable=False, default="member")
    language: Mapped[str] = Column(String(2), nullable=False, default="en")
    account = relationship("Account", back_populates="users")


class Subscription(Base):
    __tablename__ = "subscriptions"
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), unique=True, nullable=False)
    plan_id: Mapped[int] = Column(ForeignKey("plans.id"), nullable=False)
    billing_cycle: Mapped[str] = Column(String(16), nullable=False, default="monthly")
    status: Mapped[str] = Column(String(16), nullable=False, default="active")
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
    id: Mapped[int] = Column(Integer, primary_key=True)
    account_id: Mapped[int] = Column(ForeignKey("accounts.id"), nullable=False, index=True)
    subscription_id: Mapped[int] = Column(ForeignKey("subscriptions.id"), nullable=False)
    amount_minor: Mapped[int] = Column(Integer, nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False)
    period_start: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    period_end: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = Column(String(16), nullable=False, default="open")  # open, paid, void
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)


class PaymentAttempt(Base):
    __tablename__ = "payment_attempts"
    __table_args__ = (UniqueConstraint("idempotency_key"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    invoice_id: Mapped[int] = Column(ForeignKey("invoices.id"), nullable=False, index=True)
    attempted_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    amount_minor: Mapped[int] = Column(Integer, nullable=False)
    currency: Mapped[str] = Column(String(3), nullable=False)
    outcome: Mapped[str] = Column(String(16), nullable=False)  # pending, succeeded, failed, unknown
    failure_reason: Mapped[Optional[str]] = Column(String(32))
    idempotency_key: Mapped[Optional[str]] = Column(String(128))  # one per invoice and attempt
    triggered_by: Mapped[str] = Column(String(16), nullable=False, default="renewal")  # renewal, bot, dunning
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
    to_email: Mapped[str] = Column(String(255), nullable=False)
    template: Mapped[str] = Column(String(64), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False)
    payload: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    idempotency_key: Mapped[str] = Column(String(128), nullable=False)
    sent_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))


TICKET_STATUSES = ("open", "assigned", "resolved")
HANDOFF_REASONS = (
    "customer_request",
    "not_understood",
    "annual_refund",
    "telephony_refund_review",
    "on_premise_licence",
    "payment_retries_exhausted",
    "cancellation_dispute",
)


class Ticket(Base):
    """A conversation handed to a person: while it is not resolved, the bot stays silent."""

    __tablename__ = "tickets"
    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), unique=True, nullable=False)  # HD-7K3Q9M
    conversation_id: Mapped[str] = Column(String(255), unique=True, nullable=False)  # one ticket per conversation
    channel: Mapped[str] = Column(String(32), nullable=False)
    account_id: Mapped[Optional[int]] = Column(ForeignKey("accounts.id"), index=True)
    user_email: Mapped[Optional[str]] = Column(String(255))  # from the verified token only
    language: Mapped[str] = Column(String(2), nullable=False)
    reason: Mapped[str] = Column(String(32), nullable=False)
    topic: Mapped[Optional[str]] = Column(String(64))
    summary: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    status: Mapped[str] = Column(String(16), nullable=False, default="open", index=True)
    assigned_to: Mapped[Optional[str]] = Column(String(64))
    resolution: Mapped[Optional[str]] = Column(String(16))  # resolved, handed_back
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    resolved_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    messages = relationship("TicketMessage", back_populates="ticket", order_by="TicketMessage.id")


class TicketMessage(Base):
    """One line of a ticket's transcript, already redacted."""

    __tablename__ = "ticket_messages"
    __table_args__ = (UniqueConstraint("ticket_id", "source_key"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(ForeignKey("tickets.id"), nullable=False, index=True)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    author: Mapped[str] = Column(String(16), nullable=False)  # customer, bot, agent, system
    agent: Mapped[Optional[str]] = Column(String(64))
    text: Mapped[str] = Column(String(4000), nullable=False)
    source_key: Mapped[Optional[str]] = Column(String(128))  # the tracker event it came from: never added twice
    ticket = relationship("Ticket", back_populates="messages")


class HelpdeskDelivery(Base):
    """The durable outbox towards the external helpdesk: delivered in order per ticket, retried with backoff."""

    __tablename__ = "helpdesk_deliveries"
    __table_args__ = (UniqueConstraint("idempotency_key"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(ForeignKey("tickets.id"), nullable=False, index=True)
    kind: Mapped[str] = Column(String(32), nullable=False)  # ticket.created, message.created
    payload: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    idempotency_key: Mapped[str] = Column(String(128), nullable=False)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, index=True)
    delivered_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True), index=True)
    last_error: Mapped[Optional[str]] = Column(String(500))
    progress: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)  # steps done (Chatwoot mode)
