"""Every custom action ends an unexpected exception in an apology in the customer's language, never in silence."""

from __future__ import annotations

import gc
import inspect
import logging
import re
from typing import Any, Dict, List, NoReturn, Optional

import pytest
from sqlalchemy import select

from actions.account import AccountAction
from actions.safety import APOLOGY, SafeAction
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.identity import IDENTITY, attest
from tests.helpers.domain import load_domain
from tests.helpers.executor import EXECUTOR, responses, run_action, slots_set, user_event

DOMAIN = load_domain()
SECRET_TEXT = "je veux résilier, écrivez à jean.dupont@exemple.fr"


def _bug(*args: Any, **kwargs: Any) -> NoReturn:
    raise RuntimeError(f"customer said: {SECRET_TEXT}")


def _unicode_error(*args: Any, **kwargs: Any) -> NoReturn:
    raise UnicodeEncodeError("latin-1", SECRET_TEXT, 3, 4, "ordinal not in range(256)")


def _signed_in(email: str, sender: str) -> Dict[str, Any]:
    """A message's metadata once a channel verified the customer (as in test_account_actions.py)."""
    return {IDENTITY: attest(email, sender)}


def run(
    action: str,
    intent: str = "greet",
    slots: Optional[dict] = None,
    metadata: Optional[dict] = None,
    paused: bool = False,
    sender: str = "conv",
) -> dict:
    events = [user_event(intent, SECRET_TEXT, metadata=metadata)]
    return run_action(action, events, {"language": "fr", **(slots or {})}, sender, paused)


def _kinds(result: dict) -> List[str]:
    return [event["event"] for event in result["events"]]


def test_every_registered_action_runs_behind_the_safety_net() -> None:
    custom = sorted(name for name in DOMAIN["actions"] if name.startswith("action_"))
    assert sorted(EXECUTOR.actions) == custom
    for name, run_method in EXECUTOR.actions.items():
        assert isinstance(run_method.__self__, SafeAction), name
        assert run_method.__func__ is SafeAction.run, f"{name} does not run through SafeAction.run"


def test_the_abstract_bases_are_not_registered_as_actions() -> None:
    assert inspect.isabstract(SafeAction) and inspect.isabstract(AccountAction)
    registered = {type(run_method.__self__) for run_method in EXECUTOR.actions.values()}
    assert not {SafeAction, AccountAction} & registered


def test_an_action_that_overrides_run_is_refused() -> None:
    with pytest.raises(TypeError, match="implement act"):

        class Unsafe(SafeAction):  # refused while the class is being created
            def name(self) -> str:
                return "action_unsafe"

            async def run(self, dispatcher, tracker, domain):
                return []

    gc.collect()  # the half-made class must not linger among Action's subclasses


def test_the_apology_exists_in_both_languages_and_offers_a_person() -> None:
    variations = DOMAIN["responses"][APOLOGY]
    french = next(v for v in variations if v.get("condition"))
    english = next(v for v in variations if not v.get("condition"))
    assert french["condition"] == [{"type": "slot", "name": "language", "value": "fr"}]
    assert not re.search(r"[^\u00a0][:;!?]", french["text"]), "French needs a no-break space before : ; ! ?"
    for variation in (french, english):
        assert [b["payload"] for b in variation["buttons"]] == ["/human_handoff"]


@pytest.mark.parametrize("failure", [_bug, _unicode_error])
def test_a_failing_handoff_apologises_and_does_not_pause(monkeypatch, failure) -> None:
    monkeypatch.setattr("actions.handoff.request_handoff", failure)
    result = run("action_handoff", "human_handoff", slots={"pending_change": "cancel_confirm"})
    assert responses(result) == [APOLOGY]
    assert result["events"] == [{"event": "slot", "timestamp": None, "name": "pending_change", "value": None}]
    assert "pause" not in _kinds(result)


def test_what_an_action_said_before_failing_is_not_sent(monkeypatch) -> None:
    """The general answer and the invitation to sign in were said; then it failed: only the apology goes."""
    monkeypatch.setattr("actions.account.pending", _bug)
    result = run("action_renewal_failed", "renewal_failed")
    assert responses(result) == [APOLOGY]
    assert slots_set(result) == {"pending_change": None}


def test_a_failing_fallback_apologises_instead_of_asking_to_rephrase(monkeypatch) -> None:
    monkeypatch.setattr("actions.session.UserUtteranceReverted", _bug)
    result = run("action_core_fallback", "out_of_scope")
    assert responses(result) == [APOLOGY]
    assert slots_set(result) == {"pending_change": None}


def test_a_failing_misunderstanding_count_apologises(monkeypatch) -> None:
    monkeypatch.setattr("actions.session.misunderstandings_in_a_row", _bug)
    result = run("action_count_misunderstanding", "out_of_scope")
    assert responses(result) == [APOLOGY]
    assert slots_set(result) == {"pending_change": None}


def test_a_failing_session_start_keeps_the_conversation_listening(monkeypatch) -> None:
    monkeypatch.setattr("actions.session.response_slots", _bug)
    result = run("action_session_start")
    assert responses(result) == [APOLOGY]
    assert _kinds(result) == ["slot", "action"] and result["events"][-1]["name"] == "action_listen"
    # no new session: a paused conversation stays paused, and the bot says nothing while a person owns it
    paused = run("action_session_start", paused=True)
    assert responses(paused) == []
    assert not {"session_started", "resume", "pause"} & set(_kinds(paused))


@pytest.mark.parametrize("failure", [_bug, _unicode_error])
def test_a_failing_account_answer_apologises(database_url: str, monkeypatch, failure) -> None:
    monkeypatch.setattr("actions.account.account_view", failure)
    result = run("action_subscription_status", "subscription_status", metadata=_signed_in("admin@acme.example", "conv"))
    assert responses(result) == [APOLOGY]
    assert slots_set(result) == {"pending_change": None}


def test_a_failure_after_a_confirmed_cancellation_rolls_it_back(database_url: str, monkeypatch) -> None:
    """schedule_end wrote the cancellation, then formatting the date failed: nothing is kept, nothing is said
    to be done, and the next "yes" confirms nothing."""
    monkeypatch.setattr("actions.account.day", _unicode_error)
    result = run(
        "action_answer_pending",
        "affirm",
        slots={"pending_change": "cancel_confirm"},
        metadata=_signed_in("admin@globex.example", "conv"),
    )
    assert responses(result) == [APOLOGY]
    assert slots_set(result) == {"pending_change": None}
    with session_scope(engine_for(database_url)) as session:
        subscription = session.execute(
            select(m.Subscription).join(m.Account).where(m.Account.portal == "globex.bitrix24.com")
        ).scalar_one()
        assert not subscription.cancel_at_period_end
        assert session.execute(select(m.AuditLog)).scalars().all() == []


def test_the_log_tells_operators_where_and_what_but_not_the_customer_s_words(monkeypatch, caplog) -> None:
    def chained(*args: Any, **kwargs: Any) -> NoReturn:
        try:
            {}[SECRET_TEXT]
        except KeyError as error:
            raise RuntimeError(SECRET_TEXT) from error

    metadata = _signed_in("admin@acme.example", "conv")
    monkeypatch.setattr("actions.handoff.request_handoff", chained)
    with caplog.at_level(logging.INFO):
        run("action_handoff", "human_handoff", metadata=metadata)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].name == "actions.safety"
    logged = caplog.text
    assert "action_handoff" in logged and "RuntimeError <- KeyError" in logged
    assert "request_handoff(" in logged and "in act" in logged  # the stack: where it failed
    for secret in ("résilier", "jean.dupont", "admin@acme.example", metadata[IDENTITY]["signature"]):
        assert secret not in logged
