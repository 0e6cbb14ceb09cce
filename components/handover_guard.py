"""A reading that would hand the conversation to a person must be a sure one.

A billing dispute or a privacy request opens a ticket at once and pauses the bot, so a misreading ("when were
we last charged?" read as a dispute) ends the conversation for nothing. Below `at_least`, such a reading
becomes a miss (`nlu_fallback`) that names the topic it was unsure of (`unsure_of` in the parse data):
action_clarify then asks "Did you mean: dispute a charge / ...?" with buttons, as for any hesitation.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message

from components.stateless import StatelessComponent

UNSURE_PROPERTY = "unsure_of"
FALLBACK = "nlu_fallback"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HandoverGuard(StatelessComponent):
    """Turns an unsure reading as a request that opens a ticket into a miss that names it."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"intents": ["billing_dispute", "privacy_request"], "at_least": 0.9}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            confidence = float(intent.get("confidence") or 0.0)
            if intent.get("name") in self._config["intents"] and confidence < self._config["at_least"]:
                ranking = [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name") != FALLBACK]
                fallback = {"name": FALLBACK, "confidence": confidence}
                message.set(INTENT, fallback, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [fallback, *ranking], add_to_output=True)
                message.set(UNSURE_PROPERTY, intent["name"], add_to_output=True)
        return messages
