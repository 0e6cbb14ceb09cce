"""The subscription services on a real SQLite file and the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from support.billing.accounts import account_view
from support.billing.subscription_changes import (
    CANCEL,
    DOWNGRADE,
    accept_retention_offer,
    schedule_end,
)
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.settings import product
from tests.helpers.concurrency import run_at_once


def _view(url: str, email: str):
    with session_scope(engine_for(url)) as session:
        return account_view(session, email)


def test_demo_accounts_read_as_the_readme_says(database_url: str) -> None:
    now = now_utc()
    acme = _view(database_url, "admin@acme.example")
    assert (acme.status, acme.plan_name, acme.billing_cycle, acme.last_failure_reason) == (
        "past_due",
        "Professional",
        "monthly",
        "card_expired",
    )
    assert acme.card.expired(now)
    assert acme.grace_end.date() == (acme.first_failure_at + timedelta(days=product().grace_days)).date()
    assert acme.grace_days_left(now) == product().grace_days - 3
    member = _view(database_url, "MEMBER@acme.example")
    assert (member.role, member.admin_email, member.account_id) == ("member", "admin@acme.example", acme.account_id)
    globex = _view(database_url, "admin@globex.example")
    assert (globex.status, globex.billing_cycle, globex.telephony_minor, globex.telephony_currency) == (
        "active",
        "yearly",
        3500,
        "EUR",
    )
    assert 230 < (globex.period_end - now).days < 250
    initech = _view(database_url, "admin@initech.example")
    assert initech.status == "free" and initech.over_free_limits and initech.failed_attempts == 3
    umbrella = _view(database_url, "admin@umbrella.example")
    assert (umbrella.last_failure_reason, umbrella.failed_attempts) == ("insufficient_funds", 2)
    assert _view(database_url, "admin@hooli.example").edition == "on_premise"
    assert _view(database_url, "nobody@example.com") is None


def _count(url: str, model) -> int:
    with session_scope(engine_for(url)) as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_cancel_is_recorded_once_with_audit_and_email(database_url: str) -> None:
    engine = engine_for(database_url)
    now = now_utc()
    with session_scope(engine) as session:
        first = schedule_end(session, "admin@globex.example", CANCEL, "conv-1", "en", now)
    with session_scope(engine) as session:
        second = schedule_end(session, "admin@globex.example", CANCEL, "conv-1", "en", now)
    assert first.status == "done" and second.status == "already"
    assert first.effective == second.effective == _view(database_url, "admin@globex.example").period_end
    with session_scope(engine) as session:
        subscription = session.execute(
            select(m.Subscription).join(m.Account).where(m.Account.portal == "globex.bitrix24.com")
        ).scalar_one()
        assert subscription.cancel_at_period_end and not subscription.auto_renew
        audit = session.execute(select(m.AuditLog)).scalars().all()
        assert [(a.action, a.actor_email, a.conversation_id) for a in audit] == [
            ("subscription.cancel", "admin@globex.example", "conv-1")
        ]
        email = session.execute(select(m.OutboxEmail)).scalar_one()
        assert (email.to_email, email.template, email.language) == ("admin@globex.example", "cancel_confirmation", "en")


def test_only_the_admin_of_a_cloud_paid_plan_can_cancel(database_url: str) -> None:
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        member = schedule_end(session, "member@acme.example", CANCEL, "c", "fr", now_utc())
        on_premise = schedule_end(session, "admin@hooli.example", DOWNGRADE, "c", "en", now_utc())
        free = schedule_end(session, "admin@initech.example", CANCEL, "c", "en", now_utc())
        unknown = schedule_end(session, "x@example.com", CANCEL, "c", "en", now_utc())
    assert (member.status, member.admin_email) == ("not_admin", "admin@acme.example")
    assert [on_premise.status, free.status, unknown.status] == ["not_allowed", "not_allowed", "unknown_user"]
    assert _count(database_url, m.AuditLog) == 0 and _count(database_url, m.OutboxEmail) == 0


def test_a_past_due_cancellation_takes_effect_now(database_url: str) -> None:
    now = now_utc()
    with session_scope(engine_for(database_url)) as session:
        outcome = schedule_end(session, "admin@acme.example", DOWNGRADE, "c", "fr", now)
    assert outcome.status == "done" and outcome.effective == now


def test_retention_offer_applies_once(database_url: str) -> None:
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        assert accept_retention_offer(session, "admin@umbrella.example", "c", now_utc()).status == "done"
    with session_scope(engine) as session:
        assert accept_retention_offer(session, "admin@umbrella.example", "c", now_utc()).status == "already"
    assert _view(database_url, "admin@umbrella.example").discount_percent == product().retention_discount_percent
    assert _count(database_url, m.AuditLog) == 1


def test_concurrent_confirmations_change_the_subscription_once(database_url: str) -> None:
    engine = engine_for(database_url)

    def confirm() -> str:
        with session_scope(engine) as session:
            outcome = schedule_end(session, "admin@globex.example", CANCEL, "tab", "en", now_utc())
        return outcome.status  # committed

    outcomes, errors = run_at_once(lambda _: confirm(), 8)
    assert outcomes.count("done") == 1 and outcomes.count("already") == 7, (outcomes, errors)
    assert _count(database_url, m.AuditLog) == 1 and _count(database_url, m.OutboxEmail) == 1


def test_a_slow_database_is_cut_off_after_the_query_timeout() -> None:
    """PostgreSQL cancels a statement slower than QUERY_TIMEOUT_SECONDS instead of hanging the chat."""
    import time

    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from support.db.engine import QUERY_TIMEOUT_SECONDS
    from tests.helpers.server import PG_URL

    started = time.monotonic()
    with pytest.raises(OperationalError):
        with session_scope(engine_for(PG_URL)) as session:
            session.execute(text("SELECT pg_sleep(:seconds)"), {"seconds": QUERY_TIMEOUT_SECONDS + 3})
    assert time.monotonic() - started < QUERY_TIMEOUT_SECONDS + 1.5
