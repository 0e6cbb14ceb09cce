"""The custom actions, run through rasa-sdk's executor as the action server runs them."""

from __future__ import annotations

from typing import Any, Dict, List

from support.misunderstanding import misunderstandings_in_a_row
from support.settings import product
from tests.helpers.executor import run_action, slots_set, user_event


def _user(intent: str, language: dict | None = None) -> Dict[str, Any]:
    return user_event(intent, "...", language=language)


def run(action: str, events: List[dict], slots: dict | None = None, paused: bool = False) -> dict:
    return run_action(action, events, slots, paused=paused)


_slots = slots_set


def test_session_start_fills_product_facts_and_carries_slots_over() -> None:
    result = run(
        "action_session_start",
        [],
        {"language": "fr", "session_started_metadata": {"x": 1}, "pending_change": "cancel_confirm"},
    )
    slots = _slots(result)
    assert slots["product_name"] == product().product_name
    assert slots["grace_days"] == product().grace_days
    assert slots["language"] == "fr"
    assert "session_started_metadata" not in slots and "pending_change" not in slots
    assert result["events"][0]["event"] == "session_started"
    assert (result["events"][-1]["event"], result["events"][-1]["name"]) == ("action", "action_listen")


def test_misunderstandings_are_counted_in_a_row_only() -> None:
    events = [_user("greet"), _user("out_of_scope"), {"event": "bot"}, _user("nlu_fallback")]
    assert misunderstandings_in_a_row(events) == 2
    assert misunderstandings_in_a_row(events + [_user("thank")]) == 0
    assert misunderstandings_in_a_row([_user("out_of_scope"), {"event": "session_started"}, _user("out_of_scope")]) == 1


def test_count_misunderstanding_action_sets_the_slot() -> None:
    once = run("action_count_misunderstanding", [_user("greet"), _user("out_of_scope")])
    twice = run("action_count_misunderstanding", [_user("nlu_fallback"), _user("out_of_scope")])
    assert _slots(once) == {"misunderstood_twice": False}
    assert _slots(twice) == {"misunderstood_twice": True}


def test_a_new_session_keeps_a_conversation_with_a_person_paused() -> None:
    paused = [e["event"] for e in run("action_session_start", [], paused=True)["events"]]
    assert paused[:2] == ["session_started", "pause"]
    assert "pause" not in [e["event"] for e in run("action_session_start", [])["events"]]
