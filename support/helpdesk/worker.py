"""The helpdesk outbox worker: delivers each ticket's rows in order, retrying with exponential backoff
for as long as the helpdesk is down. The Rasa server runs one; `python -m support.cli helpdesk` runs one pass.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Optional, Set

import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import session_scope
from support.helpdesk.transports import DeliveryError, Job, Transport
from support.settings import environment

logger = logging.getLogger(__name__)

MAX_RETRY_SECONDS = 600  # a helpdesk down for hours is retried every ten minutes, forever
LEASE_SECONDS = 60  # a claimed row is not picked again by another worker meanwhile


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at ten minutes, with jitter so that workers do not retry in step."""
    seconds = min(MAX_RETRY_SECONDS, environment().helpdesk_retry_seconds * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def _claim(engine: Engine, now: datetime, limit: int) -> List[Job]:
    """The oldest undelivered row of each ticket, if it is due, leased to this worker."""
    with session_scope(engine) as session:
        rows = (
            session.execute(
                select(m.HelpdeskDelivery)
                .where(m.HelpdeskDelivery.delivered_at.is_(None))
                .order_by(m.HelpdeskDelivery.id)
                .limit(500)
                .with_for_update()  # a second worker waits, then sees leases
            )
            .scalars()
            .all()
        )
        jobs: List[Job] = []
        seen: Set[int] = set()
        for row in rows:
            if row.ticket_id in seen:
                continue  # in order: a ticket's later rows wait for its earlier ones
            seen.add(row.ticket_id)
            if m.utc(row.next_attempt_at) > now or len(jobs) >= limit:
                continue
            row.attempts += 1
            row.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
            jobs.append(
                Job(
                    row.id,
                    row.kind,
                    row.idempotency_key,
                    row.payload,
                    dict(row.progress or {}),
                    _context(session, row.ticket_id),
                )
            )
        return jobs


def _context(session: Session, ticket_id: int) -> Dict[str, Any]:
    context: Dict[str, Any] = {}
    for progress in session.execute(
        select(m.HelpdeskDelivery.progress)
        .where(m.HelpdeskDelivery.ticket_id == ticket_id, m.HelpdeskDelivery.delivered_at.is_not(None))
        .order_by(m.HelpdeskDelivery.id)
    ).scalars():
        context.update(progress or {})
    return context


def _finish(engine: Engine, job: Job, now: datetime, error: Optional[str]) -> None:
    with session_scope(engine) as session:
        row = session.get(m.HelpdeskDelivery, job.id)
        row.progress = job.progress
        conversation = job.progress.get("conversation_id")
        ticket = session.get(m.Ticket, row.ticket_id)
        if conversation and ticket is not None and ticket.helpdesk_conversation_id is None:
            ticket.helpdesk_conversation_id = str(conversation)  # the helpdesk's replies find the ticket by it
        if error is None:
            row.delivered_at, row.last_error = now, None
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), error[:500]


@dataclass
class PassReport:
    delivered: int = 0
    failed: int = 0


def deliver_due(engine: Engine, transport: Transport, now: datetime, limit: int = 50) -> PassReport:
    """One pass of the worker: every due row is tried once."""
    report = PassReport()
    for job in _claim(engine, now, limit):
        try:
            transport.deliver(job)
        except (requests.RequestException, DeliveryError, KeyError, TypeError, ValueError) as error:
            logger.warning("helpdesk delivery %s failed: %s", job.key, error)
            _finish(engine, job, now, f"{type(error).__name__}: {error}")
            report.failed += 1
        else:
            _finish(engine, job, now, None)
            report.delivered += 1
    return report
