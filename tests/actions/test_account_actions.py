"""Account-aware actions through rasa-sdk's executor, on real SQLite and PostgreSQL: identity, answers, changes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Optional

import jwt
import pytest
from sqlalchemy import select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.identity import DEV_SECRET, IDENTITY, attest, issue_token, verified_token
from tests.helpers.executor import responses, run_action, slots_set, user_event


def run(
    action: str,
    token: Optional[str] = None,
    intent: str = "greet",
    slots: Optional[dict] = None,
    language: str = "fr",
    sender: str = "conv",
) -> dict:
    """Runs the action on a message whose token a channel verified and turned into its attestation."""
    customer = verified_token(token)
    metadata = {IDENTITY: attest(customer.email, sender, customer.expires)} if customer else {}
    return run_action(action, [user_event(intent, metadata=metadata)], {"language": language, **(slots or {})}, sender)


said, slots = responses, slots_set


def params(result: dict, response: str) -> dict:
    return next(r for r in result["responses"] if r["response"] == response)


def expired_token(email: str) -> str:
    return jwt.encode({"sub": email, "exp": datetime.now(timezone.utc) - timedelta(minutes=1)}, DEV_SECRET, "HS256")


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "not-a-jwt",
        "a" * 10_000,
        "' OR 1=1; --",
        jwt.encode({"sub": "admin@acme.example", "exp": 4102444800}, "someone-elses-secret", "HS256"),
        jwt.encode({"sub": "admin@acme.example"}, DEV_SECRET, "HS256"),  # no expiry
        "EXPIRED",
    ],
)
def test_without_a_valid_token_only_general_answers(database_url: str, token) -> None:
    token = expired_token("admin@acme.example") if token == "EXPIRED" else token
    result = run("action_renewal_failed", token)
    assert said(result) == ["utter_renewal_failed", "utter_sign_in_for_account"]
    assert "4242" not in str(result["responses"]) and "Visa" not in str(result["responses"])


@pytest.mark.parametrize(
    "identity",
    [
        {"email": "admin@acme.example", "until": 4102444800, "signature": "0" * 64},  # forged
        "ATTESTED FOR ANOTHER CONVERSATION",
        {"token": "a raw token is not an identity"},
    ],
)
def test_an_identity_the_channel_did_not_attest_for_this_conversation_is_refused(database_url: str, identity) -> None:
    if identity == "ATTESTED FOR ANOTHER CONVERSATION":
        identity = attest("admin@acme.example", "another-conversation")
    result = run_action(
        "action_renewal_failed",
        [user_event("renewal_failed", metadata={IDENTITY: identity})],
        {"language": "en"},
        "conv",
    )
    assert said(result) == ["utter_renewal_failed", "utter_sign_in_for_account"]


def test_renewal_failed_gives_the_real_reason_and_grace_date(database_url: str) -> None:
    result = run("action_renewal_failed", issue_token("admin@acme.example"), language="fr")
    assert said(result) == ["utter_renewal_failed_account", "utter_renewal_failed_grace", "utter_reason_card_expired"]
    grace = params(result, "utter_renewal_failed_grace")
    expected = (datetime.now(timezone.utc) - timedelta(days=3) + timedelta(days=14)).date()
    from babel.dates import format_date

    assert grace["grace_end"] == format_date(expected, format="long", locale="fr_FR")
    assert grace["days_left"] == "11 jours"
    assert "4242" in params(result, "utter_reason_card_expired")["card"]
    english = run("action_renewal_failed", issue_token("admin@umbrella.example"), language="en")
    assert said(english)[-1] == "utter_reason_insufficient_funds"
    assert params(english, "utter_renewal_failed_account")["attempts"] == 2
    assert params(english, "utter_renewal_failed_account")["price"] == "€99.00"


@pytest.mark.parametrize(
    "email, response",
    [
        ("admin@acme.example", "utter_status_past_due"),
        ("admin@globex.example", "utter_status_active_yearly"),
        ("admin@initech.example", "utter_status_free"),
        ("admin@hooli.example", "utter_status_on_premise"),
    ],
)
def test_subscription_status_per_demo_account(database_url: str, email: str, response: str) -> None:
    assert said(run("action_subscription_status", issue_token(email)))[0] == response


def test_telephony_grace_limits_and_on_premise(database_url: str) -> None:
    balance = run("action_telephony_refund", issue_token("admin@globex.example"), language="fr")
    assert (
        params(balance, "utter_telephony_balance")["balance"].replace("\u202f", " ").replace("\xa0", " ") == "35,00 €"
    )
    assert said(run("action_grace_period", issue_token("admin@globex.example"))) == ["utter_grace_period_none"]
    assert said(run("action_grace_period", issue_token("admin@acme.example"))) == ["utter_grace_period_account"]
    limits = run("action_free_plan_limits", issue_token("admin@initech.example"), language="en")
    assert params(limits, "utter_free_plan_usage_over")["users"] == 12
    assert params(limits, "utter_free_plan_usage_over")["max_users"] == 5
    assert said(run("action_cancel_on_premise", issue_token("admin@hooli.example"))) == ["utter_on_premise_account"]
    assert said(run("action_cancel_on_premise", issue_token("admin@acme.example"))) == ["utter_not_on_premise"]


def test_a_member_is_told_who_the_admin_is(database_url: str) -> None:
    result = run("action_cancel_subscription", issue_token("member@acme.example"))
    assert said(result) == ["utter_only_admin_can"]
    assert params(result, "utter_only_admin_can")["admin_email"] == "admin@acme.example"
    assert slots(result)["pending_change"] is None


def _subscription(url: str, portal: str) -> m.Subscription:
    with session_scope(engine_for(url)) as session:
        return session.execute(select(m.Subscription).join(m.Account).where(m.Account.portal == portal)).scalar_one()


def test_cancel_flow_offer_confirmation_and_a_second_confirmation(database_url: str) -> None:
    token = issue_token("admin@globex.example")
    start = run("action_cancel_subscription", token, language="en")
    assert said(start) == ["utter_cancel_preview", "utter_retention_offer"]
    assert slots(start) == {"pending_change": "cancel_offer"}
    declined = run("action_answer_pending", token, intent="deny", slots=slots(start))
    assert said(declined) == ["utter_confirm_cancel"]
    assert not _subscription(database_url, "globex.bitrix24.com").cancel_at_period_end
    confirmed = run("action_answer_pending", token, intent="affirm", slots=slots(declined))
    assert said(confirmed) == ["utter_cancel_done"]
    assert slots(confirmed) == {"pending_change": None}
    assert _subscription(database_url, "globex.bitrix24.com").cancel_at_period_end
    again = run("action_answer_pending", token, intent="affirm", slots=slots(declined))
    assert said(again) == ["utter_already_canceled"]
    assert said(run("action_cancel_subscription", token)) == ["utter_already_canceled"]
    with session_scope(engine_for(database_url)) as session:
        assert len(session.execute(select(m.AuditLog)).scalars().all()) == 1


def test_accepting_the_retention_offer_keeps_the_subscription(database_url: str) -> None:
    token = issue_token("admin@umbrella.example")
    start = run("action_cancel_subscription", token)
    accepted = run("action_answer_pending", token, intent="affirm", slots=slots(start))
    assert said(accepted) == ["utter_offer_accepted"]
    subscription = _subscription(database_url, "umbrella.bitrix24.com")
    assert subscription.discount_percent == 20 and not subscription.cancel_at_period_end
    assert said(run("action_cancel_subscription", token)) == ["utter_cancel_preview", "utter_confirm_cancel"]


def test_downgrade_needs_confirmation(database_url: str) -> None:
    token = issue_token("admin@globex.example")
    start = run("action_downgrade_free_plan", token)
    assert said(start) == ["utter_downgrade_preview", "utter_confirm_downgrade"]
    kept = run("action_answer_pending", token, intent="deny", slots=slots(start))
    assert said(kept) == ["utter_change_kept"]
    assert not _subscription(database_url, "globex.bitrix24.com").cancel_at_period_end


def test_a_confirmation_without_token_changes_nothing(database_url: str) -> None:
    pending = {"pending_change": "cancel_confirm"}
    result = run("action_answer_pending", None, intent="affirm", slots=pending)
    assert said(result) == ["utter_sign_in_for_account"]
    assert not _subscription(database_url, "globex.bitrix24.com").cancel_at_period_end


@pytest.mark.parametrize("step", ["'; DROP TABLE subscriptions; --", "x" * 20_000, "<script>alert(1)</script>"])
def test_hostile_slot_values_change_nothing(database_url: str, step: str) -> None:
    result = run(
        "action_answer_pending", issue_token("admin@globex.example"), intent="affirm", slots={"pending_change": step}
    )
    assert said(result) == ["utter_anything_else"]
    assert not _subscription(database_url, "globex.bitrix24.com").cancel_at_period_end


def test_database_down_gets_an_apology_and_a_person(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")  # nothing listens there
    result = run("action_subscription_status", issue_token("admin@acme.example"))
    assert said(result) == ["utter_database_unavailable"]


def test_retry_payment_asks_then_charges_once(database_url: str) -> None:
    token = issue_token("admin@umbrella.example")
    start = run("action_retry_payment", token, language="en")
    assert said(start) == ["utter_retry_confirm"]
    assert (
        "4444" in params(start, "utter_retry_confirm")["card"]
        and params(start, "utter_retry_confirm")["amount"] == "€99.00"
    )
    done = run("action_answer_pending", token, intent="affirm", slots=slots(start))
    assert said(done) == ["utter_retry_succeeded"]
    # the same yes handled again (its first handling's replica died before the answer was saved): the payment is
    # reported, not made again
    assert said(run("action_answer_pending", token, intent="affirm", slots=slots(start))) == ["utter_retry_succeeded"]
    with session_scope(engine_for(database_url)) as session:
        assert (
            len(
                session.execute(
                    select(m.PaymentAttempt).where(
                        m.PaymentAttempt.outcome == "succeeded", m.PaymentAttempt.triggered_by == "bot"
                    )
                )
                .scalars()
                .all()
            )
            == 1
        )


def test_retry_payment_refusals(database_url: str) -> None:
    assert said(run("action_retry_payment", issue_token("admin@acme.example"))) == ["utter_retry_card_expired"]
    assert said(run("action_retry_payment", issue_token("admin@globex.example"))) == ["utter_retry_not_needed"]
    assert said(run("action_retry_payment", issue_token("member@acme.example"))) == ["utter_only_admin_can"]
    assert said(run("action_retry_payment", None)) == ["utter_retry_payment", "utter_sign_in_for_account"]


def test_a_declined_retry_gives_the_reason(database_url: str) -> None:
    from sqlalchemy import update

    with session_scope(engine_for(database_url)) as session:
        account_id = session.execute(
            select(m.User.account_id).where(m.User.email == "admin@umbrella.example")
        ).scalar_one()
        session.execute(update(m.PaymentMethod).where(m.PaymentMethod.account_id == account_id).values(last4="9995"))
    token = issue_token("admin@umbrella.example")
    declined = run("action_answer_pending", token, intent="affirm", slots={"pending_change": "retry_confirm"})
    assert said(declined) == ["utter_retry_declined", "utter_reason_insufficient_funds"]
