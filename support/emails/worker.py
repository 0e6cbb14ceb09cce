"""The email outbox worker: each queued email rendered in its reader's language and sent over SMTP, once.

- The `Message-ID` is derived from the row's idempotency key: a message sent again after a crash (the server
  took it, the row was not yet marked sent) carries the same id, which mail systems treat as one message.
- A server that is down or answers "try later" (4xx): tried again after 30 s, 1 min, 2 min... up to an hour,
  with jitter, for EMAIL_MAX_TRIES tries; then the row is failed for good (`failed_at`, `last_error`), which
  agents and the bot see. A permanent refusal (5xx) or a template error fails at once.
- Rows are leased (their next try moved forward) under a row lock, so two workers never send one row at once.

`python -m support.cli emails` runs one pass; the Rasa server runs one in a thread (channels/agent/console.py).
"""

from __future__ import annotations

import hashlib
import logging
import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, Dict, List, Optional

import jinja2
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support import formatting
from support.billing.invoices import status_text
from support.db import models as m
from support.db.engine import session_scope
from support.emails.render import render
from support.emails.smtp import SmtpSettings, send
from support.settings import environment, product

logger = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 3600
LEASE_SECONDS = 120  # a claimed row is not picked by another worker meanwhile
DATES = ("effective", "renews", "renewed_until")


@dataclass(frozen=True)
class Job:
    id: int
    to: str
    template: str
    language: str
    key: str
    attempts: int
    values: Dict[str, Any]


@dataclass
class EmailReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    seconds = min(MAX_RETRY_SECONDS, environment().email_retry_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}@{product().portal_domain}>"


def sender() -> str:
    return environment().email_from or formataddr((product().product_name, f"no-reply@{product().portal_domain}"))


def deliver_due(engine: Engine, smtp: SmtpSettings, now: datetime, limit: int = 50) -> EmailReport:
    """Sends the emails that are due; returns what became of them."""
    report = EmailReport()
    for job in _claim(engine, now, limit):
        error, permanent = _attempt(smtp, job, now)
        with session_scope(engine) as session:
            row = session.get(m.OutboxEmail, job.id)
            if error is None:
                row.sent_at, row.last_error, report.sent = now, None, report.sent + 1
            elif permanent or job.attempts >= environment().email_max_tries:
                row.failed_at, row.last_error, report.failed = now, error, report.failed + 1
                logger.warning("email %s to the outbox's recipient failed for good: %s", job.id, error)
            else:
                row.next_attempt_at, row.last_error = now + backoff(job.attempts), error
                report.retrying += 1
    return report


def _attempt(smtp: SmtpSettings, job: Job, now: datetime) -> tuple[Optional[str], bool]:
    """(None, False) when sent; else the error (short, no secret) and whether it is permanent."""
    try:
        rendered = render(job.template, job.language, job.values)
    except (jinja2.TemplateError, ValueError, TypeError, KeyError) as problem:
        return f"template: {type(problem).__name__}", True
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = rendered.subject, sender(), job.to
    message["Message-ID"], message["Date"] = message_id(job.key), format_datetime(now)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    try:
        send(smtp, message)
    except smtplib.SMTPResponseException as refusal:
        return f"SMTP {refusal.smtp_code}", refusal.smtp_code >= 500
    except smtplib.SMTPRecipientsRefused:
        return "SMTP recipient refused", True
    except (OSError, smtplib.SMTPException) as problem:
        return f"{type(problem).__name__}", False
    return None, False


def _claim(engine: Engine, now: datetime, limit: int) -> List[Job]:
    with session_scope(engine) as session:
        rows = (
            session.execute(
                select(m.OutboxEmail)
                .where(m.OutboxEmail.sent_at.is_(None), m.OutboxEmail.failed_at.is_(None))
                .where(or_(m.OutboxEmail.next_attempt_at.is_(None), m.OutboxEmail.next_attempt_at <= now))
                .order_by(m.OutboxEmail.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        jobs = []
        for row in rows:
            row.attempts += 1
            row.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
            values = values_for(session, row)
            jobs.append(
                Job(row.id, row.to_email, row.template, row.language, row.idempotency_key, row.attempts, values)
            )
        return jobs


def values_for(session: Session, row: m.OutboxEmail) -> Dict[str, Any]:
    """What the template says, formatted in the email's language from the row and the database."""
    language, payload = row.language, dict(row.payload or {})
    user = session.execute(select(m.User).where(m.User.email == row.to_email)).scalar_one_or_none()
    values: Dict[str, Any] = {
        "product_name": product().product_name,
        "support_url": product().support_url,
        "portal": user.account.portal if user is not None else "",
        "to_email": row.to_email,
    }
    for name in DATES:
        if name in payload:
            values[name] = (
                formatting.day(m.utc(datetime.fromisoformat(payload[name])), language) if payload[name] else ""
            )
    if payload.get("plan"):
        plan = session.execute(select(m.Plan).where(m.Plan.code == payload["plan"])).scalar_one_or_none()
        values["plan"] = plan.name if plan is not None else str(payload["plan"])
    if "amount_minor" in payload:
        values["amount"] = formatting.money(int(payload["amount_minor"]), str(payload["currency"]), language)
    if "invoice" in payload:
        values["invoice"] = f"#{payload['invoice']}"
    if "failed_attempts" in payload:
        values["failed_attempts"] = str(payload["failed_attempts"])
    if "invoice_ids" in payload:
        values["lines"] = [_invoice_line(session.get(m.Invoice, i), language) for i in payload["invoice_ids"]]
        values["requested_by"] = str(payload.get("requested_by") or row.to_email)
    return values


def _invoice_line(invoice: m.Invoice, language: str) -> Dict[str, str]:
    return {
        "number": f"#{invoice.id}",
        "date": formatting.day(m.utc(invoice.created_at), language),
        "period": f"{formatting.day(m.utc(invoice.period_start), language)} – {formatting.day(m.utc(invoice.period_end), language)}",
        "amount": formatting.money(invoice.amount_minor, invoice.currency, language),
        "status": status_text(language, invoice.status),
    }
