"""Shared fixtures: the project's paths and a running assistant (both servers) on test ports."""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
import requests

from tests.receiver import Receiver

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "assistant.tar.gz"
HELPDESK_SECRET = "test-helpdesk-secret"


class Assistant:
    """The assistant as started by scripts/run.sh, reached over real HTTP."""

    def __init__(self, rasa_port: int, actions_port: int, token: str, database: Path | None = None) -> None:
        self.url = f"http://127.0.0.1:{rasa_port}"
        self.token = token
        self.database = database
        self.logs = [ROOT / ".run" / "logs" / f"rasa-{rasa_port}.log",
                     ROOT / ".run" / "logs" / f"actions-{actions_port}.log"]

    def say(self, text: str, sender: str | None = None, metadata: dict | None = None) -> List[dict]:
        body = {"sender": sender or uuid.uuid4().hex, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker",
                                params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def log_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in self.logs if path.exists())


def start_assistant(rasa_port: int, actions_port: int, database_url: str,
                    database: Path | None = None, extra_env: dict | None = None) -> Iterator[Assistant]:
    """Both servers started by scripts/run.sh on the given ports, both processes on `database_url`."""
    token = uuid.uuid4().hex
    env = {**os.environ, "RASA_PORT": str(rasa_port), "ACTIONS_PORT": str(actions_port),
           "ACTION_SERVER_URL": f"http://localhost:{actions_port}/webhook", "RASA_API_TOKEN": token,
           "DATABASE_URL": database_url, **(extra_env or {})}
    for log in Assistant(rasa_port, actions_port, token).logs:
        log.unlink(missing_ok=True)
    process = subprocess.Popen([str(ROOT / "scripts" / "run.sh")], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    output = []
    deadline = time.monotonic() + 300
    for line in process.stdout:  # type: ignore[union-attr]
        output.append(line)
        if "The assistant is ready" in line:
            break
        if time.monotonic() > deadline:
            break
    if process.poll() is not None or not any("The assistant is ready" in line for line in output):
        process.kill()
        pytest.fail("the assistant did not start:\n" + "".join(output))
    server = Assistant(rasa_port, actions_port, token, database)
    try:
        yield server
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def helpdesk() -> Iterator[Receiver]:
    """A loopback helpdesk: records every webhook, answers 503 while `fail_next` > 0."""
    receiver = Receiver()
    yield receiver
    receiver.stop()


def helpdesk_env(receiver: Receiver) -> dict:
    return {"HELPDESK_MODE": "generic", "HELPDESK_URL": f"{receiver.url}/hook", "HELPDESK_SECRET": HELPDESK_SECRET,
            "HELPDESK_POLL_SECONDS": "0.3", "HELPDESK_RETRY_SECONDS": "0.2"}


@pytest.fixture(scope="session")
def assistant(tmp_path_factory, helpdesk) -> Iterator[Assistant]:
    """The assistant with its own fresh SQLite demo database (the embedded default)."""
    database = tmp_path_factory.mktemp("db") / "assistant.db"
    prepare_database(f"sqlite:///{database}")
    yield from start_assistant(int(os.environ.get("TEST_RASA_PORT", 15005)),
                               int(os.environ.get("TEST_ACTIONS_PORT", 15055)), f"sqlite:///{database}", database,
                               extra_env=helpdesk_env(helpdesk))


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
    yield from start_assistant(int(os.environ.get("TEST_RASA_PORT", 15005)) + 1,
                               int(os.environ.get("TEST_ACTIONS_PORT", 15055)) + 1, url, extra_env={"HELPDESK_MODE": "off"})


@pytest.fixture(params=["sqlite", "postgresql"])
def any_assistant(request) -> Assistant:
    """Runs a conversation test once per database: the same suite on both."""
    return request.getfixturevalue("assistant" if request.param == "sqlite" else "assistant_on_postgres")


PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def prepare_database(url: str) -> None:
    """An empty database at `url`, migrated with Alembic and filled with the demo data."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from actions import demo_data
    from actions.db import engine_for, session_scope

    if url.startswith("postgresql"):
        with engine_for(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")
    with session_scope(engine_for(url)) as session:
        demo_data.load(session)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, monkeypatch) -> str:
    """A fresh demo database on real SQLite and on the real PostgreSQL; DATABASE_URL points at it."""
    url = f"sqlite:///{tmp_path / 'test.db'}" if request.param == "sqlite" else PG_URL
    prepare_database(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
