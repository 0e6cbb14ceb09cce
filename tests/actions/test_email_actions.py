"""The bot's answer to "did I get the email?", through rasa-sdk's executor on real SQLite and PostgreSQL:
from the outbox for the admin, the addressee for members, a resend after a yes (once), and the cancellation
check that tells the subscription's state before its emails."""

from __future__ import annotations

from sqlalchemy import func, select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from tests.actions.test_request_actions import params, run
from tests.helpers.executor import responses, slots_set

GLOBEX = "admin@globex.example"


def _cancel(admin: str = GLOBEX) -> None:
    assert responses(run("action_answer_pending", admin, "affirm", slots={"pending_change": "cancel_confirm"}))[
        0
    ].endswith("_done")


def _emails(database_url: str) -> int:
    with session_scope(engine_for(database_url)) as session:
        return session.execute(select(func.count()).select_from(m.OutboxEmail)).scalar_one()


def test_an_admin_hears_what_became_of_the_email_and_may_have_it_sent_again(database_url: str) -> None:
    assert responses(run("action_email_status", GLOBEX)) == ["utter_email_status_none"]
    _cancel()
    queued = run("action_email_status", GLOBEX, "email_status", "did you send the confirmation?")
    assert responses(queued) == ["utter_email_status_list"]  # still waiting: nothing to send again yet
    line = params(queued, "utter_email_status_list")["emails"]
    assert "Confirmation of your cancellation" in line and "waiting to be sent" in line and "Paris time" in line
    with session_scope(engine_for(database_url)) as session:
        row = session.execute(select(m.OutboxEmail)).scalar_one()
        row.sent_at = row.created_at
        email_id = row.id
    sent = run("action_email_status", GLOBEX, language="fr")
    assert responses(sent) == ["utter_email_status_list", "utter_email_spam_tip", "utter_confirm_email_resend"]
    assert (
        "Confirmation de résiliation\u00a0: e-mail envoyé à admin@globex.example le"
        in params(sent, "utter_email_status_list")["emails"]
    )
    assert slots_set(sent) == {"pending_change": "email_resend_confirm", "email_to_resend": email_id}
    ask = {"pending_change": "email_resend_confirm", "email_to_resend": email_id}
    yes = run("action_answer_pending", GLOBEX, "affirm", slots=ask, language="fr")
    assert responses(yes) == ["utter_email_resend_done"]
    assert params(yes, "utter_email_resend_done")["name"] == "Confirmation de résiliation"
    assert slots_set(yes) == {"pending_change": None, "email_to_resend": None}
    again = run("action_answer_pending", GLOBEX, "affirm", slots=ask)  # the same yes twice: one copy
    assert responses(again) == ["utter_email_resend_waiting"]
    assert _emails(database_url) == 2
    assert responses(run("action_answer_pending", GLOBEX, "deny", slots=ask)) == ["utter_anything_else"]


def test_members_anonymous_visitors_and_other_accounts_get_no_email_details(database_url: str) -> None:
    _cancel("admin@acme.example")
    member = run("action_email_status", "member@acme.example")
    assert responses(member) == ["utter_email_status_member"]
    assert params(member, "utter_email_status_member")["admin_email"] == "admin@acme.example"
    assert responses(run("action_email_status", None)) == ["utter_email_status", "utter_sign_in_for_account"]
    with session_scope(engine_for(database_url)) as session:
        acme_email = session.execute(select(m.OutboxEmail.id)).scalar_one()
    # a forged slot pointing at acme's email, from globex's admin: nothing is sent, nothing is told
    forged = run(
        "action_answer_pending",
        GLOBEX,
        "affirm",
        slots={"pending_change": "email_resend_confirm", "email_to_resend": acme_email},
    )
    assert responses(forged) == ["utter_email_status_none"]
    assert _emails(database_url) == 1
    member_yes = run(
        "action_answer_pending",
        "member@acme.example",
        "affirm",
        slots={"pending_change": "email_resend_confirm", "email_to_resend": acme_email},
    )
    assert responses(member_yes) == ["utter_email_status_member"] and _emails(database_url) == 1


def test_the_cancellation_check_tells_the_state_then_the_emails(database_url: str) -> None:
    none = run("action_cancellation_confirmation", GLOBEX)
    assert responses(none) == ["utter_cancellation_state_none", "utter_email_status_none"]
    _cancel()
    scheduled = run("action_cancellation_confirmation", GLOBEX, language="fr")
    assert responses(scheduled) == ["utter_cancellation_state_scheduled", "utter_email_status_list"]
    assert params(scheduled, "utter_cancellation_state_scheduled")["plan"] == "Standard"
    assert responses(run("action_cancellation_confirmation", None)) == [
        "utter_cancellation_confirmation",
        "utter_sign_in_for_account",
    ]
    assert responses(run("action_cancellation_confirmation", "admin@hooli.example")) == ["utter_on_premise_account"]
