"""The retention period (`retention_days` in product.yml), applied by `make retention` (a daily cron, README):
conversations older than it are deleted from Rasa's conversation store; the transcripts and summaries of
tickets resolved before it, the addresses and contents of emails sent or failed before it, the helpdesk
copies delivered before it and satisfaction comments made before it are anonymised. Counts, scores, states
and dates stay, so the figures of support/analytics.py do not change for the days that remain. The audit log
is the record of what customers agreed to (cancellations, payments): it is kept, and erased only on request
(support/privacy.py)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Dict

from sqlalchemy import select
from sqlalchemy.engine import Engine

from support.db import models as m
from support.db.conversation_store import delete_before
from support.db.engine import session_scope
from support.privacy import ERASED, ERASED_EMAIL
from support.vocabulary import TicketStatus


@dataclass
class Expired:
    events: int = 0
    tickets: int = 0
    emails: int = 0
    helpdesk_deliveries: int = 0
    comments: int = 0


def apply_retention(bind: Engine, store: Engine, now: datetime, days: int) -> Dict[str, int]:
    cutoff = now - timedelta(days=days)
    done = Expired()
    with session_scope(bind) as session:
        for ticket in session.execute(
            select(m.Ticket).where(m.Ticket.status == TicketStatus.RESOLVED, m.Ticket.resolved_at < cutoff)
        ).scalars():
            if ticket.summary == {"headline": ERASED, "facts": []}:
                continue  # done by an earlier run
            for line in ticket.messages:
                line.text = ERASED
            ticket.user_email, ticket.summary, done.tickets = None, {"headline": ERASED, "facts": []}, done.tickets + 1
        for email in session.execute(
            select(m.OutboxEmail).where(
                m.OutboxEmail.created_at < cutoff,
                m.OutboxEmail.to_email != ERASED_EMAIL,
                m.OutboxEmail.sent_at.is_not(None) | m.OutboxEmail.failed_at.is_not(None),
            )
        ).scalars():
            email.to_email, email.payload, done.emails = ERASED_EMAIL, {}, done.emails + 1
        for delivery in session.execute(
            select(m.HelpdeskDelivery).where(m.HelpdeskDelivery.delivered_at < cutoff)
        ).scalars():
            if delivery.payload != {"erased": True}:
                delivery.payload, done.helpdesk_deliveries = {"erased": True}, done.helpdesk_deliveries + 1
        for rating in session.execute(
            select(m.SatisfactionRating).where(
                m.SatisfactionRating.answered_at < cutoff, m.SatisfactionRating.comment.is_not(None)
            )
        ).scalars():
            rating.comment, done.comments = None, done.comments + 1
    done.events = delete_before(store, cutoff.timestamp())
    return asdict(done)
