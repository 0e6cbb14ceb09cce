"""The satisfaction question and its answers: thin actions over support/satisfaction.py."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.safety import SafeAction
from actions.tracker import conversation_language
from support.clarification import NOT_TOPICS
from support.clock import now_utc
from support.db.engine import session_scope
from support.satisfaction import ANSWERING_CHANNELS, add_comment, record_rating, score_in
from support.vocabulary import RatingTrigger

logger = logging.getLogger(__name__)

ASKED = {"asked_bot_end": RatingTrigger.BOT_END.value, "asked_resolved": RatingTrigger.RESOLVED.value}


def _this_session(tracker: Tracker) -> List[Dict[str, Any]]:
    events = list(tracker.events)
    starts = [i for i, event in enumerate(events) if event.get("event") == "session_started"]
    return events[starts[-1] :] if starts else events


def bot_handled_a_topic(tracker: Tracker) -> bool:
    """In this session: a topic was asked, and no person was involved."""
    events = _this_session(tracker)
    if any(e.get("event") == "action" and e.get("name") == "action_handoff" for e in events):
        return False
    intents = [
        ((e.get("parse_data") or {}).get("intent") or {}).get("name") for e in events if e.get("event") == "user"
    ]
    return any(intent and intent not in NOT_TOPICS and intent != "rate_satisfaction" for intent in intents)


class ActionAskSatisfaction(SafeAction):
    """After a goodbye or thanks: the question, once per session, if the bot answered a topic on its own."""

    def name(self) -> str:
        return "action_ask_satisfaction"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if tracker.get_slot("satisfaction") or tracker.get_latest_input_channel() not in ANSWERING_CHANNELS:
            return []
        if not bot_handled_a_topic(tracker):
            return []
        dispatcher.utter_message(response="utter_ask_satisfaction")
        return [SlotSet("satisfaction", "asked_bot_end")]


class ActionRateSatisfaction(SafeAction):
    def name(self) -> str:
        return "action_rate_satisfaction"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        state = tracker.get_slot("satisfaction")
        if state in ("comment_asked", "done"):
            dispatcher.utter_message(response="utter_satisfaction_already")
            return []
        entity = next(tracker.get_latest_entity_values("satisfaction_score"), None)
        score = score_in(entity, tracker.latest_message.get("text") or "")
        if score is None:
            dispatcher.utter_message(response="utter_satisfaction_pick_score")
            return []
        trigger = ASKED.get(str(state), RatingTrigger.BOT_END.value)
        channel = tracker.get_latest_input_channel() or "unknown"
        try:
            with session_scope() as session:
                record_rating(
                    session, tracker.sender_id, channel, conversation_language(tracker), trigger, score, now_utc()
                )
        except SQLAlchemyError as error:
            logger.warning("satisfaction not recorded: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_satisfaction_thanks")
            return [SlotSet("satisfaction", "done")]
        dispatcher.utter_message(response="utter_satisfaction_ask_comment")
        return [SlotSet("satisfaction", "comment_asked")]


class ActionSaveSatisfactionComment(SafeAction):
    """The message after the comment question (components/satisfaction_policy.py decides it is a comment)."""

    def name(self) -> str:
        return "action_save_satisfaction_comment"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        declined = (tracker.latest_message.get("intent") or {}).get("name") == "deny"
        if not declined:
            try:
                with session_scope() as session:
                    add_comment(session, tracker.sender_id, tracker.latest_message.get("text") or "", now_utc())
            except SQLAlchemyError as error:
                logger.warning("satisfaction comment not recorded: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_satisfaction_thanks")
        return [SlotSet("satisfaction", "done")]
