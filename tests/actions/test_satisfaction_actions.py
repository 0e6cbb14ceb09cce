"""The satisfaction question and answers through rasa-sdk's executor on real SQLite and PostgreSQL: asked once
per session after a topic the bot handled alone, a score from a button or typed, then the comment redacted."""

from __future__ import annotations

from sqlalchemy import select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.satisfaction import score_in
from tests.helpers.executor import responses, run_action, slots_set, user_event


def _events(*intents: str, channel: str = "socketio", handed_over: bool = False) -> list:
    events = [{"event": "session_started"}]
    for intent in intents:
        events.append({**user_event(intent), "input_channel": channel})
    if handed_over:
        events.append({"event": "action", "name": "action_handoff"})
    return events


def _rate(slot: str | None, text: str, entity: str | None = None, channel: str = "socketio") -> dict:
    event = {**user_event("rate_satisfaction", text=text), "input_channel": channel}
    if entity:
        event["parse_data"]["entities"] = [{"entity": "satisfaction_score", "value": entity}]
    return run_action("action_rate_satisfaction", [event], {"satisfaction": slot, "language": "fr"}, "conv-r")


def test_the_question_comes_once_after_a_topic_the_bot_handled_alone(database_url) -> None:
    asked = run_action("action_ask_satisfaction", _events("cancel_subscription", "thank"))
    assert responses(asked) == ["utter_ask_satisfaction"] and slots_set(asked) == {"satisfaction": "asked_bot_end"}
    again = run_action("action_ask_satisfaction", _events("cancel_subscription", "thank"), {"satisfaction": "done"})
    assert responses(again) == []  # once per session
    assert responses(run_action("action_ask_satisfaction", _events("greet", "thank"))) == []  # nothing answered
    handed = run_action("action_ask_satisfaction", _events("renewal_failed", "goodbye", handed_over=True))
    assert responses(handed) == []  # a person was involved: asked after the ticket is resolved instead
    unknown = run_action("action_ask_satisfaction", _events("renewal_failed", "thank", channel="cmdline"))
    assert responses(unknown) == []  # a channel where the customer cannot answer


def test_a_score_then_a_comment_are_recorded_once_and_redacted(database_url) -> None:
    rated = _rate("asked_bot_end", '/rate_satisfaction{"satisfaction_score": "4"}', entity="4")
    assert responses(rated) == ["utter_satisfaction_ask_comment"]
    assert slots_set(rated) == {"satisfaction": "comment_asked"}
    assert responses(_rate("comment_asked", "5")) == ["utter_satisfaction_already"]
    comment = {**user_event("nlu_fallback", text="Rapide ! Rappelez-moi au 06 12 34 56 78 ou jo@ex.fr")}
    saved = run_action(
        "action_save_satisfaction_comment", [comment], {"satisfaction": "comment_asked", "language": "fr"}, "conv-r"
    )
    assert responses(saved) == ["utter_satisfaction_thanks"] and slots_set(saved) == {"satisfaction": "done"}
    with session_scope(engine_for(database_url)) as session:
        rating = session.execute(select(m.SatisfactionRating)).scalar_one()
        assert (rating.score, rating.trigger, rating.language, rating.channel) == (4, "bot_end", "fr", "socketio")
        assert rating.comment == "Rapide ! Rappelez-moi au [phone] ou [email]"


def test_no_thanks_records_no_comment_and_a_typed_score_counts(database_url) -> None:
    assert responses(_rate("asked_resolved", "très bien")) == ["utter_satisfaction_pick_score"]  # no score in it
    assert responses(_rate("asked_resolved", "je mets 2 sur 5")) == ["utter_satisfaction_ask_comment"]
    declined = run_action(
        "action_save_satisfaction_comment",
        [user_event("deny", text="Non merci")],
        {"satisfaction": "comment_asked"},
        "conv-r",
    )
    assert responses(declined) == ["utter_satisfaction_thanks"]
    with session_scope(engine_for(database_url)) as session:
        rating = session.execute(select(m.SatisfactionRating)).scalar_one()
        assert (rating.score, rating.trigger, rating.comment) == (2, "resolved", None)


def test_scores_are_read_only_when_the_message_is_a_score() -> None:
    assert [score_in(None, text) for text in ("5", " 4/5 ", "3 sur 5", "2 out of 5", "5 étoiles", "1 star")] == [
        5,
        4,
        3,
        2,
        5,
        1,
    ]
    assert [score_in(None, text) for text in ("je mets 4", "5, you were great", "I'd say 3")] == [4, 5, 3]
    assert [score_in(None, text) for text in ("five", "quatre sur cinq", "four out of five", "⭐⭐⭐")] == [5, 4, 4, 3]
    for text in ("6", "45", "we have 4 users", "0/5", "", "3 or 4", "4.5"):
        assert score_in(None, text) is None, text
    assert score_in("3", "whatever") == 3 and score_in("9", "") is None
