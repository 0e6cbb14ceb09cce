"""The neighbouring requests through rasa-sdk's executor on real SQLite and PostgreSQL: usage and card in the
status, invoices, plan changes, undoing a cancellation, payment methods and the clarifying question."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import func, select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.identity import IDENTITY, attest, issue_token, verified_token
from tests.helpers.executor import responses, run_action, slots_set, user_event


def run(
    action: str,
    email: Optional[str],
    intent: str = "greet",
    text: str = "…",
    slots: Optional[dict] = None,
    language: str = "en",
) -> dict:
    customer = verified_token(issue_token(email)) if email else None
    metadata = {IDENTITY: attest(customer.email, "conv", customer.expires)} if customer else {}
    events = [user_event(intent, text=text, metadata=metadata)]
    return run_action(action, events, {"language": language, **(slots or {})}, "conv")


def params(result: dict, response: str) -> dict:
    return next(r for r in result["responses"] if r["response"] == response)


def test_the_status_tells_usage_against_the_plan_and_the_card(database_url: str) -> None:
    result = run("action_subscription_status", "admin@globex.example")
    assert responses(result) == ["utter_status_active_yearly", "utter_status_usage", "utter_status_card"]
    usage = params(result, "utter_status_usage")
    assert (usage["users"], usage["max_users"], usage["max_storage_gb"]) == ("22", "50", "100")
    assert "5454" in params(result, "utter_status_card")["card"]
    expired = run("action_subscription_status", "admin@acme.example", language="fr")
    assert responses(expired)[-1] == "utter_status_card_expired"
    assert responses(run("action_subscription_status", "admin@hooli.example")) == ["utter_status_on_premise"]


def test_invoices_are_listed_and_copied_to_the_admin_once(database_url: str) -> None:
    first = run("action_invoice_request", "admin@acme.example", language="fr")
    assert responses(first) == ["utter_invoices_list", "utter_invoices_sent"]
    lines = params(first, "utter_invoices_list")["invoices"].splitlines()
    assert len(lines) == 6 and "impayée" in lines[0] and "199,00" in lines[0] and "payée" in lines[1]
    again = run("action_invoice_request", "admin@acme.example", language="fr")
    assert responses(again) == ["utter_invoices_list", "utter_invoices_already_sent"]
    with session_scope(engine_for(database_url)) as session:
        count = select(func.count()).select_from(m.OutboxEmail).where(m.OutboxEmail.template == "invoice_copies")
        assert session.execute(count).scalar_one() == 1


def test_members_and_on_premise_customers_are_sent_to_who_manages_billing(database_url: str) -> None:
    member = run("action_invoice_request", "member@acme.example")
    assert responses(member) == ["utter_only_admin_billing"]
    assert params(member, "utter_only_admin_billing")["admin_email"] == "admin@acme.example"
    assert responses(run("action_change_plan", "admin@hooli.example")) == ["utter_on_premise_account"]
    assert responses(run("action_invoice_request", None)) == ["utter_invoice_request", "utter_sign_in_for_account"]


def test_a_plan_change_quotes_the_target_from_the_database(database_url: str) -> None:
    target = run("action_change_plan", "admin@globex.example", "change_plan", "upgrade us to Professional")
    assert responses(target) == ["utter_change_plan_target"]
    quote = params(target, "utter_change_plan_target")
    assert (quote["plan"], quote["target"], quote["target_price"]) == ("Standard", "Professional", "€1,990.00 a year")
    options = run("action_change_plan", "admin@umbrella.example", "change_plan", "we need more users")
    assert "Basic: €49.00 a month" in params(options, "utter_change_plan_options")["plans"]
    same = run("action_change_plan", "admin@globex.example", "change_plan", "rester sur standard", language="fr")
    assert responses(same) == ["utter_change_plan_same"]


def test_a_cancellation_is_undone_after_a_yes(database_url: str) -> None:
    admin = "admin@globex.example"
    assert responses(run("action_reactivate_subscription", admin)) == ["utter_reactivate_not_needed"]
    cancel = run("action_answer_pending", admin, "affirm", slots={"pending_change": "cancel_confirm"})
    assert responses(cancel) == ["utter_cancel_done"]
    ask = run("action_reactivate_subscription", admin)
    assert responses(ask) == ["utter_confirm_reactivate"] and slots_set(ask) == {"pending_change": "reactivate_confirm"}
    declined = run("action_answer_pending", admin, "deny", slots=slots_set(ask))
    assert responses(declined) == ["utter_change_kept"]
    done = run("action_answer_pending", admin, "affirm", slots=slots_set(ask))
    assert responses(done) == ["utter_reactivate_done"] and params(done, "utter_reactivate_done")["email"] == admin
    again = run("action_answer_pending", admin, "affirm", slots=slots_set(ask))
    assert responses(again) == ["utter_reactivate_not_needed"]
    assert responses(run("action_reactivate_subscription", "admin@initech.example")) == ["utter_reactivate_free"]
    assert responses(run("action_reactivate_subscription", "member@acme.example")) == ["utter_only_admin_can"]


def test_payment_methods_come_from_product_yml(database_url: str) -> None:
    assert params(run("action_payment_methods", None, language="fr"), "utter_payment_methods")["methods"] == (
        "carte bancaire"
    )


def test_the_clarifying_question_offers_the_two_likely_topics(database_url: str) -> None:
    event = user_event("nlu_fallback", text="close everything")
    event["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35},
        {"name": "cancel_subscription", "confidence": 0.33},
        {"name": "delete_account", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
    ]
    result = run_action("action_clarify", [event], {"language": "en"}, "conv")
    assert responses(result) == ["utter_clarify"]
    buttons = result["responses"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/cancel_subscription", "/delete_account"]
    assert buttons[0]["title"] == "Cancel my subscription"
    unsure = run_action("action_clarify", [user_event("nlu_fallback", text="blah")], {"language": "en"}, "conv")
    assert responses(unsure) == ["utter_ask_rephrase"]


def test_a_follow_up_is_reread_as_the_previous_topic(database_url: str) -> None:
    earlier = user_event("refund_policy", text="can I get a refund?")
    follow_up = user_event("nlu_fallback", text="and for the annual plan?", metadata={"locale": "en"})
    follow_up["parse_data"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35},
        {"name": "change_plan", "confidence": 0.3},
        {"name": "refund_policy", "confidence": 0.25},
    ]
    result = run_action("action_clarify", [earlier, follow_up], {"language": "en"}, "conv")
    assert result["responses"] == []
    events = result["events"]
    assert [e["event"] for e in events] == ["rewind", "action", "user"]
    assert events[2]["parse_data"]["intent"]["name"] == "refund_policy"
    assert events[2]["parse_data"]["intent_ranking"][0]["name"] == "refund_policy"  # never re-read again
    assert events[2]["text"] == "and for the annual plan?" and events[2]["metadata"] == {"locale": "en"}
