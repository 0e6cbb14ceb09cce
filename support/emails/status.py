"""What became of an account's emails (sent when and to whom, still queued, failed), and an admin's
"send it again": a new outbox row (its own idempotency key, so its own Message-ID) pointing at the original.

Read from the outbox only: the bot never claims an email left unless the SMTP server accepted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import List, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.queries import audit, queue_email

RECENT = 3  # emails the bot lists
SENT, QUEUED, FAILED = "sent", "queued", "failed"


@dataclass(frozen=True)
class EmailLine:
    id: int
    template: str
    to: str
    state: str  # sent, queued, failed
    at: datetime  # sent, failed, or queued at
    last_error: Optional[str]


def state_of(row: m.OutboxEmail) -> tuple[str, datetime]:
    if row.sent_at is not None:
        return SENT, m.utc(row.sent_at)
    if row.failed_at is not None:
        return FAILED, m.utc(row.failed_at)
    return QUEUED, m.utc(row.created_at)


def line(row: m.OutboxEmail) -> EmailLine:
    state, at = state_of(row)
    return EmailLine(row.id, row.template, row.to_email, state, at, row.last_error)


def recent_emails(session: Session, account_id: int, limit: int = RECENT) -> List[EmailLine]:
    """The account's latest emails, newest first."""
    rows = session.execute(
        select(m.OutboxEmail)
        .where(m.OutboxEmail.account_id == account_id)
        .order_by(m.OutboxEmail.created_at.desc(), m.OutboxEmail.id.desc())
        .limit(limit)
    ).scalars()
    return [line(row) for row in rows]


@dataclass(frozen=True)
class ResendOutcome:
    result: str  # queued, already_queued, not_found
    email: Optional[EmailLine] = None


def resend(
    session: Session, email_id: int, account_id: int, requester: str, conversation_id: str, now: datetime
) -> ResendOutcome:
    """Queues the email again for the account's admin. Only an email of `account_id` (anything else is
    `not_found`, whoever asks); nothing new while a copy of it is still queued, so a double click sends once."""
    original = session.execute(
        select(m.OutboxEmail).where(m.OutboxEmail.id == email_id, m.OutboxEmail.account_id == account_id)
    ).scalar_one_or_none()
    if original is None:
        return ResendOutcome("not_found")
    root = original.resend_of or original.id
    copies = (
        session.execute(select(m.OutboxEmail).where(m.OutboxEmail.resend_of == root).order_by(m.OutboxEmail.id))
        .scalars()
        .all()
    )
    waiting = [copy for copy in [original, *copies] if state_of(copy)[0] == QUEUED]
    if waiting:
        return ResendOutcome("already_queued", line(waiting[-1]))
    first = session.get(m.OutboxEmail, root)
    count = session.execute(select(func.count()).where(m.OutboxEmail.resend_of == root)).scalar_one()
    key = f"resend:{root}:{count + 1}"
    try:
        with session.begin_nested():  # two clicks at once: the second key is refused, one email leaves
            queue_email(
                session,
                account_id,
                first.to_email,
                first.template,
                first.language,
                dict(first.payload or {}),
                key,
                now,
                resend_of=root,
            )
    except IntegrityError:
        return ResendOutcome("already_queued")
    audit(session, requester, account_id, "email.resend", conversation_id, {"email": root, "copy": count + 1}, now)
    queued = session.execute(select(m.OutboxEmail).where(m.OutboxEmail.idempotency_key == key)).scalar_one()
    return ResendOutcome("queued", line(queued))
