"""Fixtures only (helpers live in tests/helpers). Each test directory is a layer, marked by its name:
unit, db, actions (no trained model, browser or server: `make test-fast`), model, e2e, browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers.loopback import Receiver
from tests.helpers.server import (
    PG_URL,
    Assistant,
    fresh_demo_database,
    helpdesk_env,
    prepare_database,
    running_assistant,
)

# The tests sign demo tokens with the development secret, as `make run` does; the production checks
# set APP_ENV themselves (tests/unit/test_settings.py, tests/e2e/test_production.py).
os.environ.setdefault("APP_ENV", "development")

LAYERS = ("unit", "db", "actions", "model", "e2e", "browser")


def pytest_collection_modifyitems(items: list) -> None:
    """Every test carries the marker of its layer (its directory under tests/)."""
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in one of tests/{{{','.join(LAYERS)}}}/")
        item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture(scope="session")
def helpdesk() -> Iterator[Receiver]:
    """A loopback helpdesk: records every webhook, answers 503 while `fail_next` > 0."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, helpdesk) -> Iterator[Assistant]:
    """The assistant with its own fresh SQLite demo database (the embedded default)."""
    database = tmp_path_factory.mktemp("db") / "assistant.db"
    prepare_database(f"sqlite:///{database}")
    with running_assistant(
        int(os.environ.get("TEST_RASA_PORT", 15005)),
        int(os.environ.get("TEST_ACTIONS_PORT", 15055)),
        f"sqlite:///{database}",
        database,
        extra_env=helpdesk_env(helpdesk),
    ) as server:
        yield server


@pytest.fixture(scope="session")
def assistant_on_postgres() -> Iterator[Assistant]:
    """The assistant on the real PostgreSQL, in a database of its own (the other tests reset `test`)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = 'assistant_server_test'")).first():
            connection.execute(text("CREATE DATABASE assistant_server_test"))
    admin.dispose()
    url = PG_URL.rsplit("/", 1)[0] + "/assistant_server_test"
    prepare_database(url)
    with running_assistant(
        int(os.environ.get("TEST_RASA_PORT", 15005)) + 1,
        int(os.environ.get("TEST_ACTIONS_PORT", 15055)) + 1,
        url,
        extra_env={"HELPDESK_MODE": "off"},
    ) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def any_assistant(request) -> Assistant:
    """Runs a conversation test once per database: the same suite on both."""
    return request.getfixturevalue("assistant" if request.param == "sqlite" else "assistant_on_postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, monkeypatch) -> str:
    """A fresh demo database on real SQLite and on the real PostgreSQL; DATABASE_URL points at it."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else PG_URL
    fresh_demo_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
