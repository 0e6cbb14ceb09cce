"""Rasa's SQL tracker store, streaming a turn's new events without reading the whole conversation again.

Rasa's `TrackerStore.stream_events` (run by `SQLTrackerStore.save` whenever an event broker is set: ours always
is, channels/ticket_broker.py) retrieves and deserialises the stored conversation only to find which events are
new; `save` then counts the stored events to find the same ones. Here the count alone decides, so the events
streamed are exactly those stored. A profile of the Rasa server at saturation (py-spy, `make bench-load` at 10
conversations) put that second read at about 7 % of its CPU.
endpoints.yml: `tracker_store: {type: channels.tracker_store.LeanSQLTrackerStore, dialect, url, db, ...}`.
"""

from __future__ import annotations

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker


class LeanSQLTrackerStore(SQLTrackerStore):
    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is None:
            return
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
