"""Database connection: a SQLite file by default, PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import asyncio
import functools
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from support.settings import ROOT, environment

DEFAULT_URL = f"sqlite:///{ROOT / '.run' / 'assistant.db'}"
QUERY_TIMEOUT_SECONDS = 2  # slower than this counts as "the database is down" for the customer
REPORT_TIMEOUT_SECONDS = 120  # reports, exports and clean-ups read far more than a conversation's turn


def database_url() -> str:
    return environment().database_url or DEFAULT_URL


def trackers_url(url: str) -> str:
    """Where Rasa's conversation store lives (scripts/write_endpoints.py): PostgreSQL keeps it in the same
    database; the embedded SQLite in a file of its own beside it (`<name>-trackers.db`)."""
    if url.startswith("sqlite"):
        database = Path(url.split("///", 1)[1])
        return f"sqlite:///{database.with_name(database.stem + '-trackers.db')}"
    return url


def make_engine(url: str, timeout_seconds: int = QUERY_TIMEOUT_SECONDS) -> Engine:
    """An engine that gives up after `timeout_seconds` instead of hanging a conversation."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, future=True, connect_args={"timeout": timeout_seconds})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            connection.isolation_level = None  # let SQLAlchemy, not pysqlite, begin transactions
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA journal_mode=WAL")

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
            # SQLite has no row locks: one writer at a time keeps "read, check, change" atomic
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    timeout_ms = timeout_seconds * 1000
    return create_engine(
        url,
        future=True,
        pool_pre_ping=True,
        pool_timeout=QUERY_TIMEOUT_SECONDS,
        connect_args={
            "connect_timeout": QUERY_TIMEOUT_SECONDS,
            "options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}",
        },
    )


@functools.cache
def engine_for(url: str) -> Engine:
    return make_engine(url)


def engine() -> Engine:
    return engine_for(database_url())


@functools.cache
def report_engine_for(url: str) -> Engine:
    """For the manager's reports, privacy requests and retention: the same database, a longer timeout."""
    return make_engine(url, REPORT_TIMEOUT_SECONDS)


class BlockingCallOnEventLoop(RuntimeError):
    """A transaction was opened on the thread of a running asyncio event loop that must never wait."""


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@contextmanager
def session_scope(bind: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error.

    In the Rasa server (REFUSE_DB_ON_EVENT_LOOP=1, set by scripts/run.sh) a transaction opened on the
    event loop's thread raises: it would stall every conversation while the database answers."""
    if environment().refuse_db_on_event_loop and _on_event_loop():
        raise BlockingCallOnEventLoop("database call on the event loop: use channels.database.in_database")
    factory = sessionmaker(bind=bind or engine(), future=True, expire_on_commit=False)
    with factory() as session, session.begin():
        yield session
