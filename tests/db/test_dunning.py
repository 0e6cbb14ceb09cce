"""The dunning command on real SQLite and PostgreSQL: scheduled retries and the downgrade after the grace period."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from support.billing.dunning import run_dunning
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.payments.sandbox import SandboxGateway
from tests.helpers.concurrency import run_at_once


def _status(url: str, portal: str) -> str:
    with session_scope(engine_for(url)) as session:
        return session.execute(
            select(m.Subscription.status).join(m.Account).where(m.Account.portal == portal)
        ).scalar_one()


def test_scheduled_retry_renews_and_an_expired_card_is_not_charged(database_url: str) -> None:
    gateway = SandboxGateway()
    report = run_dunning(engine_for(database_url), gateway, now_utc())
    assert report.retried == ["admin@umbrella.example"] and report.downgraded == []
    assert gateway.charges == 1
    assert _status(database_url, "umbrella.bitrix24.com") == "active"
    assert _status(database_url, "acme.bitrix24.com") == "past_due"
    assert run_dunning(engine_for(database_url), gateway, now_utc()).retried == []  # nothing due any more


def test_downgrade_after_the_grace_period_even_run_twice_at_once(database_url: str) -> None:
    with session_scope(engine_for(database_url)) as session:  # every failure 20 days older: grace is over
        for attempt in session.execute(select(m.PaymentAttempt)).scalars():
            attempt.attempted_at = m.utc(attempt.attempted_at) - timedelta(days=20)
    gateway = SandboxGateway()
    _, errors = run_at_once(lambda _: run_dunning(engine_for(database_url), gateway, now_utc()), 2)
    assert not errors
    assert _status(database_url, "acme.bitrix24.com") == "free"
    assert _status(database_url, "umbrella.bitrix24.com") == "free"
    with session_scope(engine_for(database_url)) as session:
        downgrades = (
            session.execute(select(m.AuditLog).where(m.AuditLog.action == "subscription.downgraded_after_grace"))
            .scalars()
            .all()
        )
        emails = (
            session.execute(select(m.OutboxEmail).where(m.OutboxEmail.template == "downgraded_to_free")).scalars().all()
        )
    assert len(downgrades) == 2 and len(emails) == 2
    assert gateway.charges == 0


def test_the_dunning_receipt_is_in_the_admins_language(database_url: str) -> None:
    with session_scope(engine_for(database_url)) as session:
        session.execute(update(m.User).where(m.User.email == "admin@umbrella.example").values(language="fr"))
    run_dunning(engine_for(database_url), SandboxGateway(), now_utc())
    with session_scope(engine_for(database_url)) as session:
        receipt = session.execute(select(m.OutboxEmail).where(m.OutboxEmail.template == "payment_receipt")).scalar_one()
    assert (receipt.to_email, receipt.language) == ("admin@umbrella.example", "fr")
