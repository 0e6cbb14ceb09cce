"""A dialogue policy for the optional satisfaction comment: right after the bot asked for one
(action_rate_satisfaction, slot `satisfaction` = comment_asked), the customer's next message is the comment
(predicting action_save_satisfaction_comment, then listening), unless the NLU reads it confidently as a new request, which is
then answered as usual and the comment is skipped. "No thanks" (deny) declines. Priority above the follow-up
policy's and RulePolicy's; it predicts nothing otherwise. Stateless: nothing is trained or stored.
"""

from __future__ import annotations

from typing import Optional

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from components.stateless import StatelessPolicy
from support.clarification import NOT_TOPICS

SAVE_COMMENT = "action_save_satisfaction_comment"
ASKED_BY = "action_rate_satisfaction"
NEW_REQUEST_AT_LEAST = 0.8  # a request read this confidently is answered, not kept as a comment


def action_before_latest_message(tracker: DialogueStateTracker) -> Optional[str]:
    seen_message = False
    for event in reversed(tracker.applied_events()):
        if isinstance(event, UserUttered):
            if seen_message:
                return None
            seen_message = True
        elif seen_message and isinstance(event, ActionExecuted) and event.action_name != ACTION_LISTEN_NAME:
            return event.action_name
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class SatisfactionCommentPolicy(StatelessPolicy):
    DEFAULT_PRIORITY = 8  # FollowUpPolicy's is 7, RulePolicy's 6

    def predicted_action(self, tracker: DialogueStateTracker, domain: Domain) -> Optional[str]:
        message = tracker.latest_message
        if tracker.latest_action_name == SAVE_COMMENT:  # the comment was the turn: nothing else answers it
            return ACTION_LISTEN_NAME
        if (
            tracker.latest_action_name == ACTION_LISTEN_NAME
            and SAVE_COMMENT in domain.action_names_or_texts
            and message is not None
            and tracker.get_slot("satisfaction") == "comment_asked"
            and action_before_latest_message(tracker) == ASKED_BY
        ):
            intent = message.intent.get("name")
            new_request = intent not in NOT_TOPICS and (message.intent.get("confidence") or 0) >= NEW_REQUEST_AT_LEAST
            if intent == "deny" or not new_request:
                return SAVE_COMMENT
        return None
