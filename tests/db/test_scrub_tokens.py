"""Tokens kept by a conversation store from before the hardening are removed, on SQLite and PostgreSQL."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, text

from support.db.scrub import scrub_tokens

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbkBhY21lLmV4YW1wbGUifQ.signature"
EVENTS = [
    {"event": "user", "text": "why did my renewal fail?", "metadata": {"token": TOKEN, "locale": "en-GB"}},
    {"event": "slot", "name": "session_started_metadata", "value": {"token": TOKEN, "locale": "en-GB"}},
    {"event": "user", "text": "my token is 42", "metadata": {"locale": "fr-FR"}},  # "token" in the text: kept
    {"event": "bot", "text": "hello", "metadata": {"utter_action": "utter_greet"}},
]


def test_tokens_are_removed_from_metadata_and_nothing_else(database_url: str) -> None:
    engine = create_engine(database_url, future=True)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS events"))
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"))
        for number, event in enumerate(EVENTS, start=1):
            connection.execute(
                text("INSERT INTO events (id, sender_id, data) VALUES (:id, 'c', :data)"),
                {"id": number, "data": json.dumps(event)},
            )
    try:
        assert scrub_tokens(database_url) == 2
        assert scrub_tokens(database_url) == 0  # twice changes nothing
        with engine.connect() as connection:
            stored = [json.loads(row[0]) for row in connection.execute(text("SELECT data FROM events ORDER BY id"))]
        assert TOKEN not in json.dumps(stored)
        assert stored[0]["metadata"] == {"locale": "en-GB"} and stored[1]["value"] == {"locale": "en-GB"}
        assert stored[2:] == EVENTS[2:]
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE events"))
        engine.dispose()
