"""Removes customers' tokens from a Rasa conversation store written before the channels stopped storing them.

Before the hardening, a signed-in customer's JWT travelled in each message's metadata and Rasa kept it in
its SQL tracker store (table `events`: the user events' metadata, and the `session_started_metadata`
slot). Since then the channels store the verified subject only (support/identity.py). This pass deletes
every `token` key found under a `metadata` object or that slot's value, in place, and says how many
events it changed; running it twice changes nothing the second time.

    python -m support.cli scrub-tokens [TRACKER_STORE_URL]
"""

from __future__ import annotations

import json
from typing import Any, Tuple

from sqlalchemy import create_engine, text

SECRET_KEYS = ("token",)


def _without_tokens(value: Any, inside_metadata: bool = False) -> Tuple[Any, bool]:
    """The value with SECRET_KEYS removed from metadata objects, and whether anything was removed."""
    if isinstance(value, list):
        items = [_without_tokens(item, inside_metadata) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if not isinstance(value, dict):
        return value, False
    changed = False
    cleaned = {}
    for key, item in value.items():
        if inside_metadata and key in SECRET_KEYS:
            changed = True
            continue
        entering = (
            inside_metadata or key == "metadata" or (key == "value" and value.get("name") == "session_started_metadata")
        )
        cleaned[key], removed = _without_tokens(item, entering)
        changed = changed or removed
    return cleaned, changed


def scrub_tokens(url: str) -> int:
    """Rewrites the events that held a token; the number of events changed."""
    engine = create_engine(url, future=True)
    changed = 0
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, data FROM events WHERE data LIKE '%token%'")).all()
        for event_id, data in rows:
            cleaned, removed = _without_tokens(json.loads(data))
            if removed:
                connection.execute(
                    text("UPDATE events SET data = :data WHERE id = :id"), {"data": json.dumps(cleaned), "id": event_id}
                )
                changed += 1
    engine.dispose()
    return changed
