"""The two stateless dialogue policies: their priority, what they predict, and that they learn nothing."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
from rasa.core.policies.policy import PolicyPrediction, SupportedData
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.follow_up_policy import FOLLOW_UP_ACTION, FollowUpPolicy
from components.satisfaction_policy import ASKED_BY, SAVE_COMMENT, SatisfactionCommentPolicy

DOMAIN = Domain.from_dict(
    {
        "intents": ["refund_policy", "change_plan", "rate_satisfaction", "deny", "human_handoff"],
        "slots": {
            "satisfaction": {
                "type": "categorical",
                "values": ["comment_asked"],
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
        },
        "actions": [FOLLOW_UP_ACTION, SAVE_COMMENT, ASKED_BY],
    }
)


def _policy(cls: Any, tmp_path: Any, **config: Any) -> Any:
    storage = LocalModelStorage(tmp_path)
    return cls.create(
        {**cls.get_default_config(), **config},
        storage,
        Resource(cls.__name__),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _said(text: str, intent: str, confidence: float, ranking: Optional[List[Dict[str, Any]]] = None) -> UserUttered:
    ranking = ranking if ranking is not None else [{"name": intent, "confidence": confidence}]
    return UserUttered(text, {"name": intent, "confidence": confidence}, parse_data={"intent_ranking": ranking})


def _tracker(*events: Event) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("someone", [ActionExecuted(ACTION_LISTEN_NAME), *events], DOMAIN.slots)


def _predicted(prediction: PolicyPrediction) -> Optional[str]:
    """The action predicted with certainty, or None when nothing is (all zeros)."""
    ones = [i for i, p in enumerate(prediction.probabilities) if p == 1.0]
    assert sum(prediction.probabilities) == len(ones), prediction.probabilities
    return DOMAIN.action_names_or_texts[ones[0]] if ones else None


@pytest.mark.parametrize("cls, priority", [(FollowUpPolicy, 7), (SatisfactionCommentPolicy, 8)])
def test_each_policy_keeps_its_priority_and_learns_nothing(cls: Any, priority: int, tmp_path) -> None:
    assert cls.get_default_config() == {"priority": priority}
    assert cls.supported_data() == SupportedData.ML_DATA
    policy = _policy(cls, tmp_path)
    assert policy.priority == priority
    assert policy.train([], DOMAIN) == Resource(cls.__name__)
    assert _policy(cls, tmp_path, priority=3).priority == 3  # config.yml may set another


@pytest.mark.parametrize("cls", [FollowUpPolicy, SatisfactionCommentPolicy])
def test_a_loaded_policy_is_the_created_one(cls: Any, tmp_path) -> None:
    storage = LocalModelStorage(tmp_path)
    loaded = cls.load(
        cls.get_default_config(), storage, Resource(cls.__name__), ExecutionContext(GraphSchema({}), "test")
    )
    assert isinstance(loaded, cls) and loaded.priority == cls.get_default_config()["priority"]


def _follow_up(text: str, intent: str, confidence: float, ranking: List[Dict[str, Any]]) -> DialogueStateTracker:
    return _tracker(
        _said("can I get a refund?", "refund_policy", 0.9),
        BotUttered("no refund of unused monthly time"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _said(text, intent, confidence, ranking),
    )


def test_a_follow_up_read_as_another_topic_stays_on_the_previous_one(tmp_path) -> None:
    ranking = [{"name": "change_plan", "confidence": 0.6}, {"name": "refund_policy", "confidence": 0.3}]
    tracker = _follow_up("and for the annual plan?", "change_plan", 0.6, ranking)
    prediction = _policy(FollowUpPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)
    assert _predicted(prediction) == FOLLOW_UP_ACTION
    assert prediction.policy_name == "FollowUpPolicy" and prediction.policy_priority == 7


@pytest.mark.parametrize(
    "text, intent, ranking",
    [
        ("I want to change my plan to the annual one", "change_plan", [{"name": "change_plan", "confidence": 0.6}]),
        ("and for the annual plan?", "change_plan", [{"name": "change_plan", "confidence": 0.9}]),
        ("and a person please", "human_handoff", [{"name": "human_handoff", "confidence": 0.4}]),
    ],
)
def test_anything_else_gets_no_follow_up(text: str, intent: str, ranking: List[Dict[str, Any]], tmp_path) -> None:
    tracker = _follow_up(text, intent, ranking[0]["confidence"], ranking)
    assert _predicted(_policy(FollowUpPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)) is None


def test_no_follow_up_unless_listening(tmp_path) -> None:
    ranking = [{"name": "change_plan", "confidence": 0.6}, {"name": "refund_policy", "confidence": 0.3}]
    tracker = _follow_up("and for the annual plan?", "change_plan", 0.6, ranking)
    tracker.update(ActionExecuted(FOLLOW_UP_ACTION))
    assert _predicted(_policy(FollowUpPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)) is None


def _after_comment_question(intent: str, confidence: float, asked_by: str = ASKED_BY) -> DialogueStateTracker:
    return _tracker(
        _said("4", "rate_satisfaction", 0.99),
        ActionExecuted(asked_by),
        SlotSet("satisfaction", "comment_asked"),
        BotUttered("would you like to add a comment?"),
        ActionExecuted(ACTION_LISTEN_NAME),
        _said("the answers were slow", intent, confidence),
    )


@pytest.mark.parametrize(
    "intent, confidence",
    [("deny", 0.99), ("change_plan", 0.5), ("rate_satisfaction", 0.95), ("human_handoff", 0.99)],
)
def test_the_message_after_the_comment_question_is_the_comment(intent: str, confidence: float, tmp_path) -> None:
    tracker = _after_comment_question(intent, confidence)
    prediction = _policy(SatisfactionCommentPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)
    assert _predicted(prediction) == SAVE_COMMENT
    assert prediction.policy_name == "SatisfactionCommentPolicy" and prediction.policy_priority == 8


def test_a_confident_new_request_is_answered_instead(tmp_path) -> None:
    tracker = _after_comment_question("change_plan", 0.85)
    assert (
        _predicted(_policy(SatisfactionCommentPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)) is None
    )


def test_after_saving_the_comment_the_bot_listens(tmp_path) -> None:
    tracker = _after_comment_question("change_plan", 0.5)
    tracker.update(ActionExecuted(SAVE_COMMENT))
    prediction = _policy(SatisfactionCommentPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)
    assert _predicted(prediction) == ACTION_LISTEN_NAME


def test_no_comment_unless_the_bot_just_asked_for_one(tmp_path) -> None:
    tracker = _after_comment_question("change_plan", 0.5, asked_by=FOLLOW_UP_ACTION)
    assert (
        _predicted(_policy(SatisfactionCommentPolicy, tmp_path).predict_action_probabilities(tracker, DOMAIN)) is None
    )
