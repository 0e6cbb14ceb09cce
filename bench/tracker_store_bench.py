"""What saving a turn costs with Rasa's SQL tracker store and with ours (channels/tracker_store.py), both with an
event broker as the assistant always has one, on SQLite and on PostgreSQL.

    python -m bench.tracker_store_bench [--turns 40] [--conversations 10]

Each conversation grows turn by turn (a user message, a slot, a bot message, action_listen) and is saved after
each turn, as the Rasa server saves it; the figure is the mean time of one save (on the Rasa server's event loop:
Rasa's tracker store is synchronous). PostgreSQL: the assistant_tracker_bench database on PG_URL's server.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Type
from urllib.parse import urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from channels.tracker_store import LeanSQLTrackerStore
from support.settings import ROOT
from tests.helpers.server import postgres_database


class CountingBroker(EventBroker):
    def __init__(self) -> None:
        self.published = 0

    def publish(self, event: Dict[str, Any]) -> None:
        self.published += 1


def turn(n: int) -> List[Any]:
    parse = {"intent": {"name": "ask_status", "confidence": 0.9}, "entities": [], "text": f"question {n}"}
    parse["intent_ranking"] = [parse["intent"]] * 10
    return [
        UserUttered(f"question {n}", parse["intent"], parse_data=parse),
        SlotSet("language", "en"),
        BotUttered("An answer of a few sentences. " * 6),
        ActionExecuted("action_listen"),
    ]


async def mean_save_ms(
    store_class: Type[SQLTrackerStore], settings: Dict[str, Any], domain: Domain, args: Any
) -> float:
    broker = CountingBroker()
    store = store_class(domain=domain, event_broker=broker, **settings)
    spent = 0.0
    for _ in range(args.conversations):
        tracker = DialogueStateTracker(f"bench-{uuid.uuid4().hex}", domain.slots)
        tracker.update(ActionExecuted("action_listen"))
        for n in range(args.turns):
            for event in turn(n):
                tracker.update(event)
            started = time.perf_counter()
            await store.save(tracker)
            spent += time.perf_counter() - started
    assert broker.published == args.conversations * (args.turns * 4 + 1)  # each new event streamed once
    return 1000 * spent / (args.conversations * args.turns)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--conversations", type=int, default=10)
    args = parser.parse_args(argv)
    domain = Domain.load(str(ROOT / "domain"))
    pg = urlsplit(postgres_database("assistant_tracker_bench"))
    databases = {
        "sqlite": {"dialect": "sqlite", "db": str(Path(tempfile.mkdtemp()) / "trackers.db")},
        "postgresql": {"dialect": "postgresql", "host": pg.hostname, "port": pg.port, "db": pg.path.lstrip("/"),
                       "username": pg.username},
    }  # fmt: skip
    print(f"mean ms per save, conversations of {args.turns} turns ({args.conversations} of them):")
    for name, settings in databases.items():
        for store_class in (SQLTrackerStore, LeanSQLTrackerStore):
            figure = asyncio.run(mean_save_ms(store_class, settings, domain, args))
            print(f"  {name:<10} {store_class.__name__:<20} {figure:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
