"""action_handoff: opens (or finds) the conversation's ticket, tells the customer, pauses the bot."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.safety import SafeAction
from actions.tracker import conversation_language, latest_user_metadata
from support.clock import now_utc
from support.db.engine import engine
from support.handoff.hours import reply_expectation
from support.handoff.summary import infer_reason, infer_topic
from support.handoff.tickets import request_handoff
from support.handoff.transcript import HandoffRequest, transcript
from support.identity import verified_email

logger = logging.getLogger(__name__)


def handoff_request(tracker: Tracker) -> HandoffRequest:
    events = list(tracker.events)
    return HandoffRequest(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "unknown",
        language=conversation_language(tracker),
        email=verified_email(latest_user_metadata(tracker), tracker.sender_id),
        reason=infer_reason(events),
        topic=infer_topic(events),
        lines=transcript(events),
    )


class ActionHandoff(SafeAction):
    """The ticket and the pause go together: Rasa pauses only once the ticket is committed."""

    def name(self) -> str:
        return "action_handoff"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        request = handoff_request(tracker)
        now = now_utc()
        try:
            reference, created = request_handoff(engine(), request, now)
        except SQLAlchemyError as error:
            logger.warning("no ticket for %s: %s", tracker.sender_id, type(error).__name__)
            dispatcher.utter_message(response="utter_handoff_unavailable")
            return [SlotSet("pending_change", None)]
        expectation = reply_expectation(now, request.language)
        if not created:
            dispatcher.utter_message(response="utter_handoff_already_open", reference=reference)
        elif expectation["open_now"]:
            dispatcher.utter_message(response="utter_handoff_created_open", reference=reference, **expectation)
        else:
            dispatcher.utter_message(response="utter_handoff_created_closed", reference=reference, **expectation)
        return [SlotSet("pending_change", None), ConversationPaused()]
