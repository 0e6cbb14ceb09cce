"""Our SQL tracker store (channels/tracker_store.py) as Rasa builds it from endpoints.yml: every event of a turn
is stored and streamed to the event broker exactly once, in order, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any, Dict, List

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from channels.tracker_store import LeanSQLTrackerStore
from scripts.write_endpoints import tracker_store
from tests.helpers.concurrency import run_coroutine


class Collector(EventBroker):
    def __init__(self) -> None:
        self.events: List[Dict[str, Any]] = []

    def publish(self, event: Dict[str, Any]) -> None:
        self.events.append(event)


def _turn(text: str) -> list:
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}),
        BotUttered(f"re: {text}"),
        ActionExecuted("action_listen"),
    ]


def test_each_event_is_stored_and_streamed_once_in_order(database_url: str) -> None:
    broker = Collector()
    settings = tracker_store(database_url)
    store = TrackerStore.create(EndpointConfig(**settings), Domain.empty(), broker)
    assert isinstance(store, LeanSQLTrackerStore)  # what endpoints.yml names is what Rasa builds
    sender = f"lean-{uuid.uuid4().hex}"

    async def conversation() -> DialogueStateTracker:
        tracker = DialogueStateTracker(sender, [])
        for step in ([ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")],
                     _turn("hello"), _turn("how do I cancel?"), _turn("thanks")):  # fmt: skip
            for event in step:
                tracker.update(event)
            await store.save(tracker)
            tracker = await store.retrieve(sender)  # each turn starts from the stored conversation, as in Rasa
            await store.save(tracker)  # saved with nothing new: nothing stored or streamed twice
        return await store.retrieve(sender)

    stored = run_coroutine(conversation())
    streamed = [(e["event"], e.get("text") or e.get("name")) for e in broker.events if e["sender_id"] == sender]
    kept = [(e.type_name, getattr(e, "text", None) or getattr(e, "action_name", None)) for e in stored.events]
    assert streamed[1:] == kept and len(kept) == 11, (streamed, kept)  # the session's events, from its start
    assert streamed[0] == ("action", "action_session_start")  # stored too, before the session's start
