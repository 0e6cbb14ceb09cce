"""The one way the Rasa server's channels touch the database: on a worker thread, never on the event loop."""

from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from sqlalchemy.orm import Session

from support.db.engine import session_scope

T = TypeVar("T")


async def in_database(work: Callable[[Session], T]) -> T:
    """Runs `work(session)` in one transaction on a worker thread (the event loop never waits on it)."""

    def run() -> T:
        with session_scope() as session:
            return work(session)

    return await asyncio.to_thread(run)
