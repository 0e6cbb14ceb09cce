"""Changes a customer asks for in the chat: cancel, downgrade to free, keep (undo either), accept the
retention offer.

Each runs in one transaction with the subscription row locked: the change, the audit log and
the confirmation email in the outbox are written together or not at all, and asking twice
changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Tuple, Union

from sqlalchemy.orm import Session

from support.db import models as m
from support.db.queries import admin_email, audit, locked_subscription, queue_email
from support.settings import product
from support.vocabulary import Edition, Role, SubscriptionStatus

CANCEL = "cancel"
DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class ChangeOutcome:
    status: str  # done, already, not_admin, not_allowed, unknown_user
    effective: Optional[datetime] = None
    admin_email: Optional[str] = None


def _locked_for_admin(session: Session, email: str) -> Union[ChangeOutcome, Tuple[m.User, m.Subscription]]:
    """The admin and their account's subscription (row locked), or the outcome that refuses anyone else."""
    user, subscription = locked_subscription(session, email)
    if user is None or subscription is None:
        return ChangeOutcome("unknown_user")
    if user.role != Role.ADMIN:
        return ChangeOutcome("not_admin", admin_email=admin_email(session, user.account_id))
    return user, subscription


def effective_date(period_end: Optional[datetime], now: datetime) -> datetime:
    """A change takes effect at the end of the paid period, or now if that period is already over."""
    return max(period_end, now) if period_end else now


def schedule_end(
    session: Session, email: str, kind: str, conversation_id: str, language: str, now: datetime
) -> ChangeOutcome:
    """Cancels (kind=cancel) or downgrades to free (kind=downgrade) at the end of the paid period."""
    locked = _locked_for_admin(session, email)
    if isinstance(locked, ChangeOutcome):
        return locked
    user, subscription = locked
    if user.account.edition != Edition.CLOUD or subscription.status in (
        SubscriptionStatus.FREE,
        SubscriptionStatus.CANCELED,
    ):
        return ChangeOutcome("not_allowed")
    effective = effective_date(m.utc(subscription.current_period_end) if subscription.current_period_end else None, now)
    if subscription.cancel_at_period_end:
        return ChangeOutcome("already", effective=effective)
    subscription.cancel_at_period_end = True
    subscription.auto_renew = False
    subscription.canceled_at = now
    details = {"kind": kind, "effective": effective.isoformat(), "plan": subscription.plan.code}
    audit(session, user.email, user.account_id, f"subscription.{kind}", conversation_id, details, now)
    queue_email(
        session,
        user.account_id,
        user.email,
        f"{kind}_confirmation",
        language,
        details,
        f"{kind}:{subscription.id}:{effective.date().isoformat()}",
        now,
    )
    return ChangeOutcome("done", effective=effective)


def accept_retention_offer(session: Session, email: str, conversation_id: str, now: datetime) -> ChangeOutcome:
    """Applies the one retention offer of product.yml; a second acceptance changes nothing."""
    locked = _locked_for_admin(session, email)
    if isinstance(locked, ChangeOutcome):
        return locked
    user, subscription = locked
    if subscription.discount_percent:
        return ChangeOutcome("already")
    facts = product()
    subscription.discount_percent = facts.retention_discount_percent
    subscription.discount_until = now + timedelta(days=30 * facts.retention_discount_months)
    audit(
        session,
        user.email,
        user.account_id,
        "retention_offer.accepted",
        conversation_id,
        {"percent": subscription.discount_percent, "until": subscription.discount_until.isoformat()},
        now,
    )
    return ChangeOutcome("done")


def keep_subscription(
    session: Session, email: str, conversation_id: str, language: str, now: datetime
) -> ChangeOutcome:
    """Undoes a cancellation or a downgrade to free that has not taken effect yet: the subscription renews again."""
    locked = _locked_for_admin(session, email)
    if isinstance(locked, ChangeOutcome):
        return locked
    user, subscription = locked
    if user.account.edition != Edition.CLOUD or subscription.status not in (
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
    ):
        return ChangeOutcome("not_allowed")
    renews = m.utc(subscription.current_period_end) if subscription.current_period_end else None
    if not subscription.cancel_at_period_end:
        return ChangeOutcome("already", effective=renews)
    subscription.cancel_at_period_end = False
    subscription.auto_renew = True
    subscription.canceled_at = None
    details = {"kind": "reactivate", "renews": renews.isoformat() if renews else None, "plan": subscription.plan.code}
    audit(session, user.email, user.account_id, "subscription.reactivate", conversation_id, details, now)
    queue_email(
        session,
        user.account_id,
        user.email,
        "reactivation_confirmation",
        language,
        details,
        f"reactivate:{subscription.id}:{now.isoformat()}",
        now,
    )
    return ChangeOutcome("done", effective=renews)
