"""A REST or widget message with a client message id is handled once, however many times the client sends it (a retry
after a timeout, or after the replica that had it died): the same id gets the same answer.

The conversation store is the truth: a message whose id is in the conversation was handled, and its answer is
the bot messages that follow it there. A claim (Redis SET NX with an expiry when REDIS_URL is set, else this
process's memory) keeps two copies in flight at once from both being handled: the second waits for the first's
answer. A claim whose holder died expires after CLAIM_SECONDS and the message is handled then.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from channels.shared_keys import SharedKeys
from support.settings import environment

CLIENT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")  # a client's message id, as REST and the widget send it
CLAIM_SECONDS = 30  # a turn takes far less; a claim older than this belongs to a replica that died
DONE_SECONDS = 24 * 3600
WAIT_SECONDS = 60
POLL_SECONDS = 0.2

_claims: Dict[Optional[str], SharedKeys] = {}


def _keys() -> SharedKeys:
    url = environment().redis_url
    if url not in _claims:
        _claims[url] = SharedKeys("message", url)
    return _claims[url]


async def claim(key: str, seconds: int = CLAIM_SECONDS) -> bool:
    """True for the first claimant of `key` (until it expires)."""
    return await _keys().add(key, seconds)


async def keep(key: str) -> None:
    """The message was handled: its claim lasts a day (its answer is in the conversation)."""
    await _keys().put(key, DONE_SECONDS)


def answer_in(events: List[Dict[str, Any]], message_id: str, recipient: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that answered `message_id` in a conversation's events, once its turn ended; else None."""
    start = next(
        (n for n, e in enumerate(events) if e.get("event") == "user" and e.get("message_id") == message_id), None
    )
    if start is None:
        return None
    answer: List[Dict[str, Any]] = []
    for event in events[start + 1 :]:
        if event.get("event") == "user":
            return answer
        if event.get("event") == "bot":
            message: Dict[str, Any] = {"recipient_id": recipient, "text": event.get("text") or ""}
            buttons = (event.get("data") or {}).get("buttons")
            if buttons:
                message["buttons"] = buttons
            answer.append(message)
        if event.get("event") == "action" and event.get("name") == "action_listen":
            return answer
    return None  # the turn is still going on


async def once(
    conversation: str,
    message_id: str,
    events_of: Callable[[], Awaitable[List[Dict[str, Any]]]],
    handle: Callable[[], Awaitable[List[Dict[str, Any]]]],
) -> List[Dict[str, Any]]:
    """handle() unless the message was (or is being) handled: then the answer it got."""
    key = f"{conversation}:{message_id}"
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if await claim(key):
            done = answer_in(await events_of(), message_id, conversation)
            if done is not None:  # handled by an earlier claim that has expired since
                await keep(key)
                return done
            answer = await handle()
            await keep(key)
            return answer
        done = answer_in(await events_of(), message_id, conversation)
        if done is not None:
            return done
        if time.monotonic() > deadline:
            raise TimeoutError(f"message {message_id} of {conversation} is still being handled")
        await asyncio.sleep(POLL_SECONDS)
