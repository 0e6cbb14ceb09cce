"""Lookups shared by the services that read or change a customer's subscription."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.payments.port import Card
from support.vocabulary import InvoiceStatus, Role

FREE_PLAN = "free"  # the plan code of the free plan


def locked_subscription(session: Session, email: str) -> tuple[Optional[m.User], Optional[m.Subscription]]:
    """The user and their account's subscription, the subscription row locked until the transaction ends."""
    user = session.execute(select(m.User).where(m.User.email == email.lower())).scalar_one_or_none()
    if user is None:
        return None, None
    subscription = session.execute(
        select(m.Subscription).where(m.Subscription.account_id == user.account_id).with_for_update()
    ).scalar_one()
    return user, subscription


def admin_user(session: Session, account_id: int) -> Optional[m.User]:
    """The account's admin (the first admin if there are several)."""
    return (
        session.execute(
            select(m.User).where(m.User.account_id == account_id, m.User.role == Role.ADMIN).order_by(m.User.id)
        )
        .scalars()
        .first()
    )


def admin_email(session: Session, account_id: int) -> str:
    """The account admin's email, or "" if the account has no admin."""
    admin = admin_user(session, account_id)
    return admin.email if admin else ""


def free_plan(session: Session) -> m.Plan:
    """The free plan (its limits, and where a downgraded subscription goes)."""
    return session.execute(select(m.Plan).where(m.Plan.code == FREE_PLAN)).scalar_one()


def open_invoice(session: Session, account_id: int) -> Optional[m.Invoice]:
    """The latest unpaid invoice of an account, if any."""
    return session.execute(
        select(m.Invoice)
        .where(m.Invoice.account_id == account_id, m.Invoice.status == InvoiceStatus.OPEN)
        .order_by(m.Invoice.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def default_card(session: Session, account_id: int) -> Optional[Card]:
    row = (
        session.execute(
            select(m.PaymentMethod).where(m.PaymentMethod.account_id == account_id, m.PaymentMethod.is_default)
        )
        .scalars()
        .first()
    )
    return (
        Card(row.brand, row.last4, row.exp_month, row.exp_year, row.gateway_customer, row.gateway_method)
        if row
        else None
    )


def audit(
    session: Session,
    actor: str,
    account_id: Optional[int],
    action: str,
    conversation_id: Optional[str],
    details: dict,
    now: datetime,
) -> None:
    """Who did what, when, from which conversation."""
    session.add(
        m.AuditLog(
            at=now,
            actor_email=actor,
            account_id=account_id,
            action=action,
            conversation_id=conversation_id,
            details=details,
        )
    )


def queue_email(
    session: Session,
    account_id: int,
    to: str,
    template: str,
    language: str,
    payload: dict,
    key: str,
    now: datetime,
    resend_of: Optional[int] = None,
) -> None:
    """An email about `account_id` for the outbox; `key` is unique, so the same email is never queued twice."""
    session.add(
        m.OutboxEmail(
            created_at=now,
            account_id=account_id,
            to_email=to,
            template=template,
            language=language,
            payload=payload,
            idempotency_key=key,
            resend_of=resend_of,
        )
    )
