"""Writes the endpoints file of one run: endpoints.yml with this run's action server URL and a
SQL tracker store on the run's database (Rasa 3.6 does not read environment variables there).

Conversations (and whether a person owns them) then survive a restart: PostgreSQL keeps them in
the DATABASE_URL database (Rasa's `events` table); the embedded SQLite keeps them in a file beside
the subscription database (two SQLite writers on one file would wait for each other).

    python -m scripts.write_endpoints OUT.yml   (Rasa names the SQL host `url`)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from support.db.engine import database_url, trackers_url
from support.settings import ROOT

STORE = "channels.tracker_store.LeanSQLTrackerStore"  # Rasa's SQL store, one read fewer per turn


def tracker_store(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"type": STORE, "dialect": "sqlite", "db": trackers_url(url).split("///", 1)[1]}
    parts = urlsplit(url)
    store = {
        "type": STORE,
        "dialect": parts.scheme.split("+")[0],
        "url": parts.hostname or "localhost",
        "db": parts.path.lstrip("/"),
        "username": unquote(parts.username or ""),
    }
    if parts.port:
        store["port"] = parts.port
    if parts.password:
        store["password"] = unquote(parts.password)
    if parts.query:
        store["query"] = dict(parse_qsl(parts.query))  # e.g. sslmode=require
    return store


def lock_store(redis_url: str) -> dict:
    """A lock store on Redis: one conversation's messages processed one at a time whichever replica gets them
    (ours, channels/lock_store.py: Rasa's RedisLockStore loses turns when two replicas lock at once)."""
    parts = urlsplit(redis_url)
    store = {
        "type": "channels.lock_store.AtomicRedisLockStore",
        "url": parts.hostname or "localhost",
        "port": parts.port or 6379,
        "db": int((parts.path or "/0").lstrip("/") or 0),
        "key_prefix": "assistant",
        "use_ssl": parts.scheme == "rediss",
    }
    if parts.password:
        store["password"] = unquote(parts.password)
    return store


def main(out: str) -> None:
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints["action_endpoint"]["url"] = os.environ.get("ACTION_SERVER_URL") or endpoints["action_endpoint"]["url"]
    # Rasa reads ${...} from its own environment when it loads this file: the token is never written down.
    endpoints["action_endpoint"]["headers"] = {"Authorization": "Bearer ${ACTION_SERVER_TOKEN}"}
    endpoints["tracker_store"] = tracker_store(database_url())
    if os.environ.get("REDIS_URL"):  # several replicas: the lock must be shared (else Rasa's in-memory one)
        endpoints["lock_store"] = lock_store(os.environ["REDIS_URL"])
    Path(out).write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
