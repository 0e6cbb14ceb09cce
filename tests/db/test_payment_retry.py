"""Payment retries on real SQLite and PostgreSQL: one charge per invoice whatever happens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from support.billing.payment_retry import reconcile_unknown, retry_payment
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.payments.sandbox import SANDBOX_DECLINES, SANDBOX_TIMEOUT, SandboxGateway
from tests.helpers.concurrency import run_at_once

UMBRELLA = "admin@umbrella.example"  # past_due, insufficient funds twice, valid card


def _set_card(url: str, email: str, last4: str) -> None:
    with session_scope(engine_for(url)) as session:
        account_id = session.execute(select(m.User.account_id).where(m.User.email == email)).scalar_one()
        session.execute(update(m.PaymentMethod).where(m.PaymentMethod.account_id == account_id).values(last4=last4))


def _attempts(url: str, outcome: str) -> list:
    with session_scope(engine_for(url)) as session:
        query = select(m.PaymentAttempt).where(
            m.PaymentAttempt.outcome == outcome, m.PaymentAttempt.triggered_by == "bot"
        )
        return session.execute(query).scalars().all()


def _retry(url: str, gateway: SandboxGateway, email: str = UMBRELLA, limit: int = 3):
    return retry_payment(engine_for(url), gateway, email, "conv", "en", now_utc(), limit)


def test_fifty_concurrent_retries_charge_once(database_url: str) -> None:
    gateway = SandboxGateway()
    outcomes, errors = run_at_once(lambda _: _retry(database_url, gateway).status, 50)
    assert not errors and len(outcomes) == 50 and gateway.charges == 1
    assert outcomes.count("succeeded") == 1, outcomes
    assert set(outcomes) <= {"succeeded", "in_progress", "already_paid"}
    assert len(_attempts(database_url, "succeeded")) == 1
    with session_scope(engine_for(database_url)) as session:
        subscription = session.execute(
            select(m.Subscription).join(m.Account).where(m.Account.portal == "umbrella.bitrix24.com")
        ).scalar_one()
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


class BrokenGateway:
    """A provider that charged the card but answered with an error (a 500, an APIError, anything)."""

    def __init__(self, inner: SandboxGateway, error: Exception) -> None:
        self.inner, self.error = inner, error

    def charge(self, **charge) -> None:
        self.inner.charge(**charge)
        raise self.error

    def lookup(self, key: str):
        return self.inner.lookup(key)


@pytest.mark.parametrize("error", [RuntimeError("HTTP 500"), ValueError("bad JSON"), ConnectionResetError()])
def test_any_gateway_error_leaves_the_attempt_unknown_and_reconciliation_settles_it(
    database_url: str, error: Exception
) -> None:
    sandbox = SandboxGateway()
    broken = BrokenGateway(sandbox, error)
    assert _retry(database_url, broken).status == "unknown"
    assert _attempts(database_url, "pending") == [] and len(_attempts(database_url, "unknown")) == 1
    assert _retry(database_url, sandbox).status == "in_progress"  # never charged again while unsettled
    assert reconcile_unknown(engine_for(database_url), sandbox, now_utc()) == 1
    assert sandbox.charges == 1 and len(_attempts(database_url, "succeeded")) == 1
    assert _retry(database_url, sandbox).status == "already_paid"


def test_a_pending_attempt_left_by_a_dead_process_is_reconciled_by_key(database_url: str) -> None:
    from support.billing.payment_retry import start_attempt

    gateway = SandboxGateway()
    long_ago = now_utc() - timedelta(hours=1)
    with session_scope(engine_for(database_url)) as session:  # step 1 committed, then the process died
        pending = start_attempt(session, UMBRELLA, long_ago, max_per_day=3)
    gateway.charge(
        amount_minor=pending.amount_minor,
        currency=pending.currency,
        card=pending.card,
        idempotency_key=pending.idempotency_key,
    )  # the charge went through before it died
    assert _retry(database_url, gateway).status == "in_progress"
    assert reconcile_unknown(engine_for(database_url), gateway, now_utc()) == 1
    assert gateway.charges == 1 and len(_attempts(database_url, "succeeded")) == 1


def test_two_sandbox_processes_never_charge_one_key_twice(database_url: str) -> None:
    """Each action-server process has its own gateway object: the key's memory is in the database."""
    from support.payments.port import Card

    card = Card("visa", "4242", 12, now_utc().year + 2)
    results, errors = run_at_once(
        lambda _: SandboxGateway().charge(  # a new object each, as in another process
            amount_minor=100, currency="EUR", card=card, idempotency_key="key-1"
        ),
        8,
    )
    assert not errors and len(results) == 8 and len(set(results)) == 1 and results[0].outcome == "succeeded"
    assert SandboxGateway().charges == 1


def test_a_yes_handled_again_after_its_payment_went_through_reports_the_payment(database_url: str) -> None:
    """The replica that charged died before answering: the customer's yes, handled again elsewhere, learns that
    the payment went through (and when it renews), not that nothing failed; an hour later, nothing failed."""
    gateway = SandboxGateway()
    first = _retry(database_url, gateway)
    again = _retry(database_url, gateway)
    assert (again.status, again.renewed_until) == ("already_paid", first.renewed_until) and gateway.charges == 1
    later = retry_payment(engine_for(database_url), gateway, UMBRELLA, "conv", "en", now_utc() + timedelta(hours=1), 3)
    assert (later.status, later.renewed_until) == ("already_paid", None)
