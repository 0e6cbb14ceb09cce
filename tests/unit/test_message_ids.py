"""A REST message with a client id is handled once: its answer is read back from the conversation, and a copy
that arrives while the first is being handled waits for it instead of being handled too."""

from __future__ import annotations

import asyncio

import pytest

from channels import message_ids
from channels.message_ids import answer_in, once
from tests.helpers.concurrency import run_coroutine as run

EVENTS = [
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "hi", "message_id": "a"},
    {"event": "bot", "text": "Hello!"},
    {"event": "bot", "text": "Pick one", "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]}},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "cancel", "message_id": "b"},
    {"event": "bot", "text": "Sure"},
]


def test_the_answer_of_a_message_is_read_from_the_conversation() -> None:
    assert answer_in(EVENTS, "a", "rest-x") == [
        {"recipient_id": "rest-x", "text": "Hello!"},
        {"recipient_id": "rest-x", "text": "Pick one", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
    ]
    # Rasa stores a turn when it ends: a stored message was handled, even one a paused conversation left unanswered
    assert answer_in(EVENTS, "b", "rest-x") == [{"recipient_id": "rest-x", "text": "Sure"}]
    assert answer_in(EVENTS[:6], "b", "rest-x") == []
    assert answer_in(EVENTS, "c", "rest-x") is None  # never seen


@pytest.fixture(autouse=True)
def local_claims(monkeypatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    message_ids._claims.clear()


def test_two_copies_at_once_are_handled_once_and_both_get_the_answer() -> None:
    stored: list = [{"event": "action", "name": "action_listen"}]
    handled = []

    async def events_of() -> list:
        return list(stored)

    async def handle() -> list:
        handled.append(1)
        await asyncio.sleep(0.3)  # a slow turn: the second copy arrives meanwhile
        stored.extend(
            [
                {"event": "user", "text": "hi", "message_id": "m1"},
                {"event": "bot", "text": "Hello!"},
                {"event": "action", "name": "action_listen"},
            ]
        )
        return [{"recipient_id": "rest-y", "text": "Hello!"}]

    async def both() -> list:
        return await asyncio.gather(once("rest-y", "m1", events_of, handle), once("rest-y", "m1", events_of, handle))

    first, second = run(both())
    assert handled == [1] and first == second == [{"recipient_id": "rest-y", "text": "Hello!"}]
    assert run(once("rest-y", "m1", events_of, handle)) == first and handled == [1]  # a later retry too


def test_a_copy_after_the_claim_expired_is_answered_from_the_conversation_not_handled_again(monkeypatch) -> None:
    """The replica that handled the message died before it could answer: its claim expires, the copy finds the
    message in the conversation. A message never seen is handled without reading the conversation."""
    stored = [{"event": "user", "text": "hi", "message_id": "m2"}, {"event": "bot", "text": "Hello!"}]
    reads, handled = [], []

    async def events_of() -> list:
        reads.append(1)
        return stored

    async def handle() -> list:
        handled.append(1)
        return []

    monkeypatch.setattr(message_ids, "CLAIM_SECONDS", 0.05)
    run(once("rest-z", "m1", events_of, handle))
    assert (reads, handled) == ([], [1])  # first sighting: straight to handle()
    message_ids._claims.clear()  # (the first claim, in memory, forgotten)
    run(message_ids._keys().add("seen:6:rest-z:m2", 60))  # m2 was seen by a replica that died
    assert run(once("rest-z", "m2", events_of, handle)) == [{"recipient_id": "rest-z", "text": "Hello!"}]
    assert (reads, handled) == ([1], [1])
