"""Payment retries on real SQLite and PostgreSQL: one charge per invoice whatever happens."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, update

from support.billing.payment_retry import reconcile_unknown, retry_payment
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.payments.sandbox import SANDBOX_DECLINES, SANDBOX_TIMEOUT, SandboxGateway

UMBRELLA = "admin@umbrella.example"  # past_due, insufficient funds twice, valid card


def _set_card(url: str, email: str, last4: str) -> None:
    with session_scope(engine_for(url)) as session:
        account_id = session.execute(select(m.User.account_id).where(m.User.email == email)).scalar_one()
        session.execute(update(m.PaymentMethod).where(m.PaymentMethod.account_id == account_id).values(last4=last4))


def _attempts(url: str, outcome: str) -> list:
    with session_scope(engine_for(url)) as session:
        return session.execute(select(m.PaymentAttempt).where(m.PaymentAttempt.outcome == outcome)).scalars().all()


def _retry(url: str, gateway: SandboxGateway, email: str = UMBRELLA, limit: int = 3):
    return retry_payment(engine_for(url), gateway, email, "conv", "en", now_utc(), limit)


def test_fifty_concurrent_retries_charge_once(database_url: str) -> None:
    gateway, outcomes = SandboxGateway(), []
    barrier = threading.Barrier(50)

    def tab() -> None:
        barrier.wait()
        outcomes.append(_retry(database_url, gateway).status)

    threads = [threading.Thread(target=tab) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 50 and gateway.charges == 1
    assert outcomes.count("succeeded") == 1, outcomes
    assert set(outcomes) <= {"succeeded", "in_progress", "already_paid"}
    assert len(_attempts(database_url, "succeeded")) == 1
    with session_scope(engine_for(database_url)) as session:
        subscription = session.execute(select(m.Subscription).join(m.Account)
                                       .where(m.Account.portal == "umbrella.bitrix24.com")).scalar_one()
        assert subscription.status == "active" and m.utc(subscription.current_period_end) > now_utc()
        assert len(session.execute(select(m.OutboxEmail)).scalars().all()) == 1


@pytest.mark.parametrize("last4, reason", sorted(SANDBOX_DECLINES.items()))
def test_every_decline_reason_is_reported(database_url: str, last4: str, reason: str) -> None:
    _set_card(database_url, UMBRELLA, last4)
    outcome = _retry(database_url, SandboxGateway())
    assert (outcome.status, outcome.failure_reason) == ("declined", reason)


def test_an_expired_card_is_not_charged(database_url: str) -> None:
    gateway = SandboxGateway()
    assert _retry(database_url, gateway, "admin@acme.example").status == "card_expired"
    assert gateway.charges == 0


def test_a_timeout_is_reconciled_without_a_second_charge(database_url: str) -> None:
    _set_card(database_url, UMBRELLA, SANDBOX_TIMEOUT)
    gateway = SandboxGateway()
    assert _retry(database_url, gateway).status == "unknown"
    assert _retry(database_url, gateway).status == "in_progress"  # never blindly charged again
    assert reconcile_unknown(engine_for(database_url), gateway, now_utc()) == 1
    assert gateway.charges == 1 and len(_attempts(database_url, "succeeded")) == 1
    assert _retry(database_url, gateway).status == "already_paid"


def test_the_bot_retries_at_most_n_times_a_day(database_url: str) -> None:
    _set_card(database_url, UMBRELLA, "9995")
    gateway = SandboxGateway()
    assert [_retry(database_url, gateway, limit=2).status for _ in range(3)] == ["declined", "declined", "rate_limited"]
    assert gateway.charges == 2


def test_members_and_strangers_cannot_retry(database_url: str) -> None:
    gateway = SandboxGateway()
    assert _retry(database_url, gateway, "member@acme.example").status == "not_admin"
    assert _retry(database_url, gateway, "nobody@example.com").status == "unknown_user"
    assert _retry(database_url, gateway, "admin@globex.example").status == "already_paid"
    assert gateway.charges == 0
