"""A dialogue policy for follow-ups: "and for the annual plan?" right after the refund answer is still about
refunds, even when the NLU, reading the message alone, prefers another topic.

When the message being answered is a short continuation (support.clarification.continues), the NLU's topic
is not the previous one, and the NLU still ranks the previous topic as a real candidate, it predicts
`action_follow_up`, which re-reads the message as the previous topic (as Rasa's two-stage fallback re-reads a
message). Its priority is above RulePolicy's, so that its prediction wins; it predicts nothing otherwise.
Stateless: nothing is trained or stored.
"""

from __future__ import annotations

from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.stateless import StatelessPolicy
from support.clarification import continues, previous_topic_of, stays_on_previous_topic

FOLLOW_UP_ACTION = "action_follow_up"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class FollowUpPolicy(StatelessPolicy):
    DEFAULT_PRIORITY = 7  # RulePolicy's is 6

    def predicted_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        if tracker.latest_action_name == ACTION_LISTEN_NAME and FOLLOW_UP_ACTION in domain.action_names_or_texts:
            message = tracker.latest_message
            if (
                message is not None
                and continues(message.text or "")
                and stays_on_previous_topic(
                    message.text or "",
                    message.intent.get("name"),
                    message.parse_data.get("intent_ranking") or [],
                    previous_topic_of([e.as_dict() for e in tracker.applied_events() if isinstance(e, UserUttered)]),
                )
            ):
                return FOLLOW_UP_ACTION
        return None
