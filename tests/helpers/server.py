"""The assistant as users start it (scripts/run.sh), reached over real HTTP, and its demo databases."""
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

from support.settings import ROOT
from tests.helpers.loopback import Receiver

MODEL = ROOT / "models" / "assistant.tar.gz"
HELPDESK_SECRET = "test-helpdesk-secret"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


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


def helpdesk_env(receiver: Receiver) -> dict:
    return {"HELPDESK_MODE": "generic", "HELPDESK_URL": f"{receiver.url}/hook", "HELPDESK_SECRET": HELPDESK_SECRET,
            "HELPDESK_POLL_SECONDS": "0.3", "HELPDESK_RETRY_SECONDS": "0.2"}


def prepare_database(url: str) -> None:
    """An empty database at `url`, migrated with Alembic and filled with the demo data."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from support import demo_data
    from support.db.engine import engine_for, session_scope

    if url.startswith("postgresql"):
        with engine_for(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")
    with session_scope(engine_for(url)) as session:
        demo_data.load(session)
