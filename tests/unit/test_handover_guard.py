"""An unsure reading as a dispute or a privacy request becomes a clarifying question, not a ticket."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.handover_guard import UNSURE_PROPERTY, HandoverGuard


def _message(name: str, confidence: float, runner_up: str = "subscription_status") -> Message:
    ranking = [{"name": name, "confidence": confidence}, {"name": runner_up, "confidence": 1 - confidence}]
    return Message(data={TEXT: "x", INTENT: ranking[0], INTENT_RANKING_KEY: ranking})


def test_an_unsure_dispute_becomes_a_miss_that_names_it() -> None:
    message = _message("billing_dispute", 0.86)
    HandoverGuard(HandoverGuard.get_default_config()).process([message])
    assert message.get(INTENT) == {"name": "nlu_fallback", "confidence": 0.86}
    assert message.get(UNSURE_PROPERTY) == "billing_dispute"
    assert [e["name"] for e in message.get(INTENT_RANKING_KEY)] == [
        "nlu_fallback",
        "billing_dispute",
        "subscription_status",
    ]


@pytest.mark.parametrize(
    "name, confidence", [("billing_dispute", 0.97), ("privacy_request", 0.95), ("refund_policy", 0.5)]
)
def test_a_sure_handover_or_another_request_is_left_alone(name: str, confidence: float) -> None:
    message = _message(name, confidence)
    HandoverGuard(HandoverGuard.get_default_config()).process([message])
    assert message.get(INTENT)["name"] == name
    assert message.get(UNSURE_PROPERTY) is None
