"""The conversation's language set inside the Rasa server after each user message: no action-server call.

The `language` slot used a custom mapping (`action_set_language` on the action server), so every turn cost
an HTTP round trip with the whole tracker before the bot could answer (issue 13's profile: 13 % of the Rasa
server's CPU). `install()` wraps Rasa's `ActionExtractSlots`, which runs after every user message, so that
it also sets the slot with the same rule as before, `support.language.choose_language`: the detector's
reading of the message (the NLU pipeline's `language` property), the channel locale (the message's
metadata, else the session's) and the conversation's language so far; short or neutral messages keep it,
a clear sentence in the other language switches, the channel locale sets the first turn. The slot's
mapping is `custom` without an action, so Rasa calls nothing for it. The package `channels` installs it.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from support.language import choose_language, locale_language
from support.settings import product

SLOT = "language"
logger = logging.getLogger(__name__)


def channel_locale(tracker: DialogueStateTracker) -> Optional[str]:
    """The channel's language: the message's metadata (button payloads skip the NLU), else the session's."""
    message = tracker.latest_message
    metadata: Dict[str, Any] = (message.metadata if isinstance(message, UserUttered) else None) or {}
    return locale_language(metadata) or locale_language(tracker.get_slot("session_started_metadata"))


def language_after(tracker: DialogueStateTracker, current: Optional[str]) -> str:
    """The conversation's language once the latest user message is read."""
    message = tracker.latest_message
    detected = dict((message.parse_data.get("language") if message else None) or {})
    detected["locale"] = detected.get("locale") or channel_locale(tracker)
    return choose_language(current, detected, product().default_language)


def install() -> None:
    """Makes Rasa's slot extraction also set the `language` slot (idempotent)."""
    if getattr(ActionExtractSlots.run, "sets_language", False):
        return
    extract = ActionExtractSlots.run

    async def run(self: ActionExtractSlots, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        events = await extract(self, output_channel, nlg, tracker, domain)
        if not any(slot.name == SLOT for slot in domain.slots):
            return events
        set_now = [e.value for e in events if isinstance(e, SlotSet) and e.key == SLOT]
        current = set_now[-1] if set_now else tracker.get_slot(SLOT)
        try:
            chosen = language_after(tracker, current)
        except Exception:  # a bug here must not cost the customer the answer: the language stays
            logger.exception("The conversation's language could not be chosen; it stays %s", current)
            return events
        return events if chosen == current else [*events, SlotSet(SLOT, chosen)]

    run.sets_language = True  # type: ignore[attr-defined]
    ActionExtractSlots.run = run  # type: ignore[method-assign]
