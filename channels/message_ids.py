"""A REST or widget message with a client message id is handled once, however many times the client sends it (a retry
after a timeout, or after the replica that had it died): the same id gets the same answer.

The conversation store is the truth: a message whose id is in the conversation was handled, and its answer is
the bot messages that follow it there. A claim (Redis SET NX with an expiry when REDIS_URL is set, else this
process's memory), refreshed while the turn runs, keeps two copies in flight at once from both being handled:
the second waits for the first's answer. A claim whose holder died expires after CLAIM_SECONDS and the message
is handled then, unless the conversation shows it was.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional

from channels.shared_keys import SharedKeys
from support.settings import environment

CLIENT_ID = re.compile(r"[A-Za-z0-9._:\-]{1,64}")  # a client's message id, as REST and the widget send it
CLAIM_SECONDS = 30  # refreshed while the turn runs: a claim this old belongs to a replica that died
SEEN_SECONDS = 24 * 3600
WAIT_SECONDS = 60
POLL_SECONDS = 0.2

_claims: Dict[Optional[str], SharedKeys] = {}


def _keys() -> SharedKeys:
    url = environment().redis_url
    if url not in _claims:
        _claims[url] = SharedKeys("message", url)
    return _claims[url]


async def claim(key: str) -> bool:
    """True for the first claimant of `key` (until the claim expires)."""
    return await _keys().add(f"claim:{key}", CLAIM_SECONDS)


async def _holding(key: str) -> None:
    """Keeps the claim while the turn runs (a turn may wait for the conversation's lock, or a slow action)."""
    while True:
        await asyncio.sleep(CLAIM_SECONDS / 3)
        await _keys().put(f"claim:{key}", CLAIM_SECONDS)


def answer_in(events: List[Dict[str, Any]], message_id: str, recipient: str) -> Optional[List[Dict[str, Any]]]:
    """The bot messages that followed `message_id` in a conversation's events, or None when it is not there. Rasa
    stores a turn when it ends, so a stored message was handled (a paused conversation's gets no bot message)."""
    start = next(
        (n for n, e in enumerate(events) if e.get("event") == "user" and e.get("message_id") == message_id), None
    )
    if start is None:
        return None
    answer: List[Dict[str, Any]] = []
    for event in events[start + 1 :]:
        if event.get("event") == "user":
            break
        if event.get("event") == "bot":
            message: Dict[str, Any] = {"recipient_id": recipient, "text": event.get("text") or ""}
            buttons = (event.get("data") or {}).get("buttons")
            if buttons:
                message["buttons"] = buttons
            answer.append(message)
    return answer


async def once(
    conversation: str,
    message_id: str,
    events_of: Callable[[], Awaitable[List[Dict[str, Any]]]],
    handle: Callable[[], Awaitable[List[Dict[str, Any]]]],
) -> List[Dict[str, Any]]:
    """handle() unless the message was (or is being) handled: then the answer it got. The conversation is read only
    for a copy: the first sighting of an id (a day-long key beside the claim) goes straight to handle()."""
    key = f"{len(conversation)}:{conversation}:{message_id}"  # no two (conversation, id) pairs share a key
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        if await claim(key):
            if not await _keys().add(f"seen:{key}", SEEN_SECONDS):  # seen before: its claim expired, handled?
                done = answer_in(await events_of(), message_id, conversation)
                if done is not None:
                    return done
            keeper = asyncio.create_task(_holding(key))
            try:
                return await handle()
            finally:
                keeper.cancel()
        done = answer_in(await events_of(), message_id, conversation)
        if done is not None:
            return done
        if time.monotonic() > deadline:
            raise TimeoutError(f"message {message_id} of {conversation} is still being handled")
        await asyncio.sleep(POLL_SECONDS)
