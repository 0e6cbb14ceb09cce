"""Rasa custom actions: each one only translates between the tracker and the services."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ConversationPaused,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import SafeAction
from actions.tracker import conversation_language
from support import i18n
from support.clarification import follow_up_topic, previous_topic_of, topics_to_offer
from support.misunderstanding import OFFER_HUMAN_AFTER, misunderstandings_in_a_row
from support.settings import check_configuration, response_slots

# The clarifying question's buttons: every topic a customer can mean (tests/unit/test_domain.py checks the list).
TOPIC_KEYS = {
    "cancel_subscription": "topic.cancel_subscription",
    "downgrade_free_plan": "topic.downgrade_free_plan",
    "reactivate_subscription": "topic.reactivate_subscription",
    "refund_policy": "topic.refund_policy",
    "telephony_refund": "topic.telephony_refund",
    "export_data": "topic.export_data",
    "after_cancellation": "topic.after_cancellation",
    "delete_account": "topic.delete_account",
    "cancel_on_premise": "topic.cancel_on_premise",
    "find_billing_settings": "topic.find_billing_settings",
    "free_plan_limits": "topic.free_plan_limits",
    "renewal_failed": "topic.renewal_failed",
    "retry_payment": "topic.retry_payment",
    "update_payment_method": "topic.update_payment_method",
    "grace_period": "topic.grace_period",
    "subscription_status": "topic.subscription_status",
    "cancellation_confirmation": "topic.cancellation_confirmation",
    "invoice_request": "topic.invoice_request",
    "email_status": "topic.email_status",
    "billing_dispute": "topic.billing_dispute",
    "change_plan": "topic.change_plan",
    "payment_methods": "topic.payment_methods",
    "privacy_request": "topic.privacy_request",
}

# A new session must not inherit a half-finished question or the previous channel metadata.
NOT_CARRIED_OVER = {"session_started_metadata", "pending_change", "satisfaction", "email_to_resend"}

check_configuration()  # refuses to start in production without a real key (InsecureConfiguration)


class ActionSessionStart(SafeAction):
    """Starts a session with the product facts that responses interpolate."""

    def name(self) -> str:
        return "action_session_start"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if name not in NOT_CARRIED_OVER and value is not None
        ]
        facts = [SlotSet(name, value) for name, value in response_slots().items()]
        # a new session (after an idle hour) must not wake the bot while a person owns the conversation
        still_paused = [ConversationPaused()] if tracker.is_paused() else []
        return [SessionStarted(), *still_paused, *carried, *facts, ActionExecuted("action_listen")]

    def recovery_events(self, tracker: Tracker) -> List[EventType]:
        """No new session (it would wake a paused bot and lose the slots): the old one goes on, listening."""
        return [*super().recovery_events(tracker), ActionExecuted("action_listen")]


class ActionCountMisunderstanding(SafeAction):
    """Sets `misunderstood_twice` so that rules offer a person after two misses in a row."""

    def name(self) -> str:
        return "action_count_misunderstanding"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        repeated = misunderstandings_in_a_row(tracker.events) >= OFFER_HUMAN_AFTER
        return [SlotSet("misunderstood_twice", repeated)]


class ActionClarify(SafeAction):
    """After a first miss: a short follow-up ("and for the annual plan?") is taken as being about the previous
    topic (the message is re-read with that intent, as Rasa's two-stage fallback does); otherwise the two
    topics the message most likely meant as buttons, else a request to rephrase."""

    def name(self) -> str:
        return "action_clarify"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        latest = tracker.latest_message or {}
        ranking = [entry for entry in latest.get("intent_ranking") or [] if entry.get("name") in TOPIC_KEYS]
        topic = follow_up_topic(latest.get("text") or "", ranking, previous_topic(tracker))
        if topic is not None:
            return reread_as(tracker, topic)
        topics = topics_to_offer(ranking, unsure_of=latest.get("unsure_of"))
        if not topics:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        language = conversation_language(tracker)
        buttons = [{"title": i18n.text(language, TOPIC_KEYS[topic]), "payload": f"/{topic}"} for topic in topics]
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


def previous_topic(tracker: Tracker) -> Optional[str]:
    topic = previous_topic_of(tracker.events)
    return topic if topic in TOPIC_KEYS else None


def reread_as(tracker: Tracker, topic: str) -> List[EventType]:
    """The latest message again, with `topic` as its intent: the dialogue answers it as that topic."""
    latest = next(event for event in reversed(tracker.events) if event.get("event") == "user")
    parse_data = dict(latest.get("parse_data") or {})
    others = [entry for entry in parse_data.get("intent_ranking") or [] if entry.get("name") != topic]
    parse_data["intent"] = {"name": topic, "confidence": 1.0}
    parse_data["intent_ranking"] = [parse_data["intent"], *others]  # read again, it is a plain `topic` message
    return [
        UserUtteranceReverted(),
        ActionExecuted("action_listen"),
        # rasa_sdk's UserUttered() has no metadata argument; Rasa reads it from the event (the identity is in it)
        {
            **UserUttered(latest.get("text"), parse_data=parse_data, input_channel=latest.get("input_channel")),
            "metadata": latest.get("metadata") or {},
        },
    ]


class ActionFollowUp(SafeAction):
    """Predicted by components/follow_up_policy.py: the follow-up is answered as the previous topic."""

    def name(self) -> str:
        return "action_follow_up"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        topic = previous_topic(tracker)
        if topic is None:  # the policy saw one: never happens, but the message is then answered as it was read
            return []
        return reread_as(tracker, topic)


class ActionCoreFallback(SafeAction):
    """When no dialogue rule applies: ask to rephrase and forget the message, so nothing loops."""

    def name(self) -> str:
        return "action_core_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_rephrase")
        return [UserUtteranceReverted()]
