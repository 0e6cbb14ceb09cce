"""What a person does in a customer's conversation, from the console or a helpdesk: say something on the
customer's own channel (kept in the tracker), or give the conversation back to the bot."""

from __future__ import annotations

import logging
from typing import Any, Optional

from rasa.core.actions.action import create_bot_utterance
from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from rasa.shared.core.events import ActionExecuted, BotUttered, ConversationResumed, SlotSet

from support.satisfaction import ANSWERING_CHANNELS

logger = logging.getLogger(__name__)

RESUME_RESPONSES = {"resolved": "utter_handoff_resolved", "handed_back": "utter_handoff_handed_back"}


def output_channel(app: Any, channel_name: Optional[str]) -> OutputChannel:
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == channel_name:
            output = channel.get_output_channel()
            if output is not None:
                return output
    return CollectingOutputChannel()  # REST has no way to push: the reply stays in the conversation


async def tell_customer(app: Any, conversation: str, text: str, agent: str) -> bool:
    """Sends the agent's words on the customer's channel and keeps them in the conversation."""
    rasa_agent = app.ctx.agent
    async with rasa_agent.lock_store.lock(conversation):
        tracker = await rasa_agent.processor.get_tracker(conversation)
        output = output_channel(app, tracker.get_latest_input_channel())
        send_as_agent = getattr(output, "send_agent_message", None)  # our channels: says whether it went out
        try:
            delivered = bool(send_as_agent and await send_as_agent(conversation, text, agent))
        except Exception as problem:  # noqa: BLE001 - a messenger API that is down must not lose the reply
            logger.warning("agent reply not pushed to %s: %s", conversation, problem)
            delivered = False
        tracker.update(BotUttered(text, metadata={"agent": agent}))
        await rasa_agent.processor.save_tracker(tracker)
    return delivered


async def resume(app: Any, conversation: str, resolution: str, reference: str) -> bool:
    """The bot takes the conversation again and says so, in the customer's language (False: not paused)."""
    response_name = RESUME_RESPONSES[resolution]
    rasa_agent = app.ctx.agent
    async with rasa_agent.lock_store.lock(conversation):
        tracker = await rasa_agent.processor.get_tracker(conversation)
        if not tracker.is_paused():
            return False
        tracker.update(ConversationResumed())
        output = output_channel(app, tracker.get_latest_input_channel())
        message = await rasa_agent.processor.nlg.generate(response_name, tracker, output.name(), reference=reference)
        if message:
            message["utter_action"] = response_name
            pushed = not isinstance(output, CollectingOutputChannel)  # REST cannot push: nobody would see it
            try:
                await output.send_response(conversation, dict(message))
            except Exception as problem:  # noqa: BLE001 - the bot is resumed even if the push fails
                logger.warning("resume message not pushed to %s: %s", conversation, problem)
                pushed = False
            tracker.update(ActionExecuted(response_name))
            tracker.update(create_bot_utterance(dict(message)))
            if resolution == "resolved" and pushed and not tracker.get_slot("satisfaction"):
                await _ask_satisfaction(rasa_agent, tracker, output, conversation)
        tracker.update(ActionExecuted("action_listen"))
        await rasa_agent.processor.save_tracker(tracker)
    return True


async def _ask_satisfaction(rasa_agent: Any, tracker: Any, output: OutputChannel, conversation: str) -> None:
    """After a resolved ticket, on a channel that showed the resume message: how satisfied, 1 to 5."""
    if output.name() not in ANSWERING_CHANNELS:
        return
    question = await rasa_agent.processor.nlg.generate("utter_ask_satisfaction", tracker, output.name())
    if not question:
        return
    question["utter_action"] = "utter_ask_satisfaction"
    try:
        await output.send_response(conversation, dict(question))
    except Exception as problem:  # noqa: BLE001 - no question is better than a lost resume
        logger.warning("satisfaction question not pushed to %s: %s", conversation, problem)
        return
    tracker.update(ActionExecuted("utter_ask_satisfaction"))
    tracker.update(create_bot_utterance(dict(question)))
    tracker.update(SlotSet("satisfaction", "asked_resolved"))
