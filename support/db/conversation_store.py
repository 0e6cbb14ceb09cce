"""Rasa's conversation store read (and, for privacy and retention, pruned) without Rasa: its SQL tracker store
keeps one row per event in `events` (Rasa 3.6, rasa/core/tracker_store.py, SQLTrackerStore.SQLEvent), with the
event as JSON in `data`. It lives in the DATABASE_URL database on PostgreSQL and beside the SQLite file
(support/db/engine.trackers_url). Rasa creates the table when its server first starts: until then it is empty."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, inspect, select
from sqlalchemy.engine import Connection, Engine

from support.db.engine import database_url, report_engine_for, trackers_url

METADATA = MetaData()
EVENTS = Table(
    "events",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)
BATCH = 500


def store_engine(url: Optional[str] = None) -> Engine:
    return report_engine_for(trackers_url(url or database_url()))


def exists(connection: Connection) -> bool:
    return inspect(connection).has_table("events")


@dataclass(frozen=True)
class StoredEvent:
    sender_id: str
    type_name: str
    timestamp: float
    intent_name: Optional[str]
    action_name: Optional[str]
    data: Dict[str, Any]


def _event(row: Any) -> StoredEvent:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        data = {}
    return StoredEvent(row.sender_id, row.type_name, row.timestamp or 0.0, row.intent_name, row.action_name, data)


def events_between(bind: Engine, start: float, end: float, types: Sequence[str]) -> Iterator[StoredEvent]:
    """Events of the given types with start <= timestamp < end, in order."""
    with bind.connect() as connection:
        if not exists(connection):
            return
        query = (
            select(EVENTS)
            .where(EVENTS.c.timestamp >= start, EVENTS.c.timestamp < end, EVENTS.c.type_name.in_(list(types)))
            .order_by(EVENTS.c.id)
            .execution_options(yield_per=BATCH)
        )
        for row in connection.execute(query):
            yield _event(row)


def conversation_events(bind: Engine, sender_ids: Sequence[str]) -> Dict[str, List[Dict[str, Any]]]:
    """Every event of these conversations, as Rasa stored them."""
    found: Dict[str, List[Dict[str, Any]]] = {sender: [] for sender in sender_ids}
    with bind.connect() as connection:
        if not sender_ids or not exists(connection):
            return found
        rows = connection.execute(select(EVENTS).where(EVENTS.c.sender_id.in_(list(sender_ids))).order_by(EVENTS.c.id))
        for row in rows:
            found[row.sender_id].append(_event(row).data)
    return found


def conversations_mentioning(bind: Engine, needle: str) -> List[str]:
    """Conversations whose events hold `needle` (a signed-in customer's email is in their messages' identity)."""
    with bind.connect() as connection:
        if not needle or not exists(connection):
            return []
        pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = select(EVENTS.c.sender_id).where(EVENTS.c.data.like(pattern, escape="\\")).distinct()
        return sorted(connection.execute(query).scalars())


def delete_conversations(bind: Engine, sender_ids: Sequence[str]) -> int:
    """Rasa has no endpoint to delete a conversation (RasaHQ/rasa#10719): its rows go here."""
    with bind.begin() as connection:
        if not sender_ids or not exists(connection):
            return 0
        return connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_(list(sender_ids)))).rowcount or 0


def delete_before(bind: Engine, cutoff: float) -> int:
    """Every event older than `cutoff` (the retention period)."""
    with bind.begin() as connection:
        if not exists(connection):
            return 0
        return connection.execute(delete(EVENTS).where(EVENTS.c.timestamp < cutoff)).rowcount or 0
