"""What every channel does with a message before Rasa sees it: clean the text (support/text.py) and remove
card data (support/redaction.py), refuse
one that is too long or from a sender over its rate limit (answered in the customer's language, nothing
stored), and replace a verified customer's token with the attestation the actions accept."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Optional, Tuple

from support import i18n
from support.identity import IDENTITY, attest
from support.language import guess_language, locale_language
from support.rate_limit import allowed
from support.redaction import redact_card_data
from support.settings import environment, product
from support.text import clean_text

logger = logging.getLogger(__name__)

TOO_LONG, RATE_LIMITED = "too_long", "rate_limited"
# Rasa acts on these typed payloads itself (restart the conversation, undo a turn, a new session) without a
# word, forgetting the language, even while a person owns the conversation: from a customer they are text.
RASA_CONTROL = re.compile(r"/(restart|back|session_start)\b", re.IGNORECASE)


async def admit(conversation_id: str, text: str, client: Optional[str]) -> Tuple[str, Optional[str]]:
    """The cleaned text, card numbers and security codes removed (they never enter the conversation store),
    and why it must not reach Rasa (TOO_LONG, RATE_LIMITED) or None."""
    text = clean_text(text)
    if RASA_CONTROL.match(text):
        text = text[1:]
    if len(text) > environment().max_message_chars:
        return "", TOO_LONG
    if not await asyncio.to_thread(allowed, conversation_id, client):
        logger.warning("rate limit: a message of %s refused", conversation_id)
        return "", RATE_LIMITED
    return redact_card_data(text), None


def refusal(reason: str, language: str) -> str:
    if reason == TOO_LONG:
        return i18n.plural(language, "channel.too_long", environment().max_message_chars)
    return i18n.text(language, "channel.rate_limited")


async def stored_language(app: Any, conversation_id: str) -> Optional[str]:
    """The language the conversation is held in (its tracker's `language` slot), if it has one yet."""
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return None
    try:
        tracker = await store.retrieve(conversation_id)
    except Exception as error:  # noqa: BLE001 - the store being down must not stop a refusal
        logger.warning("conversation language unknown for %s: %s", conversation_id, type(error).__name__)
        return None
    language = tracker.get_slot("language") if tracker is not None else None
    return str(language) if language in i18n.LANGUAGES else None


async def conversation_language(app: Any, conversation_id: str, locale: Optional[str], text: str = "") -> str:
    """The conversation's stored language, else the channel's locale, else the refused text's own language,
    else product.yml's default."""
    return (
        await stored_language(app, conversation_id)
        or locale_language({"locale": locale})
        or guess_language(text)
        or product().default_language
    )


def identity_metadata(email: Optional[str], conversation_id: str, expires: Any = None) -> dict:
    """The metadata entry that tells the actions who the customer is (empty when anonymous)."""
    return {IDENTITY: attest(email, conversation_id, expires)} if email else {}
