"""The assistant as users start it (scripts/run.sh), reached over real HTTP, and its demo databases."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.settings import ROOT
from support.vocabulary import (
    AttemptOutcome,
    Cycle,
    FailureReason,
    InvoiceStatus,
    Role,
    SubscriptionStatus,
)
from tests.helpers.loopback import Receiver

MODEL = ROOT / "models" / "assistant.tar.gz"
# Sanic logs a CORS preflight that carries no body as an error (`OPTIONS /link/code`): not ours to fix;
BENIGN = re.compile(
    r"<Request: OPTIONS [^>]*> body not consumed"
    # Rasa logs each refused HTTP API call as an error (tests/e2e/test_server.py makes some)
    r"|rasa\.server +- User is not authenticated\."
)
HELPDESK_SECRET = "test-helpdesk-secret"
CHATWOOT_WEBHOOK_TOKEN = "test-chatwoot-webhook-token"
CHATWOOT_WEBHOOK_SECRET = "test-chatwoot-webhook-secret"
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Assistant:
    """The assistant as started by scripts/run.sh, reached over real HTTP."""

    def __init__(
        self, rasa_port: int, actions_port: int, token: str, database: Path | None = None, database_url: str = ""
    ) -> None:
        self.url = f"http://127.0.0.1:{rasa_port}"
        self.actions_url = f"http://127.0.0.1:{actions_port}"
        self.token = token
        self.database = database  # the SQLite file, if the assistant runs on one
        self.database_url = database_url
        self.logs = [
            ROOT / ".run" / "logs" / f"rasa-{rasa_port}.log",
            ROOT / ".run" / "logs" / f"actions-{actions_port}.log",
        ]

    def say(self, text: str, sender: str | None = None, metadata: dict | None = None) -> List[dict]:
        body = {"sender": sender or uuid.uuid4().hex, "message": text}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(f"{self.url}/webhooks/rest/webhook", json=body, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()

    @staticmethod
    def rest(sender: str) -> str:
        """The conversation id of a REST sender (the REST channel's namespace, channels/rest.py)."""
        return f"rest-{sender}"

    def tracker(self, sender: str) -> dict:
        response = requests.get(f"{self.url}/conversations/{sender}/tracker", params={"token": self.token}, timeout=30)
        response.raise_for_status()
        return response.json()

    def log_text(self) -> str:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace") for path in self.logs if path.exists())

    def log_problems(self, secrets: tuple = ()) -> List[str]:
        """Log lines that no run should write: a traceback, an error, or one of `secrets`."""
        lines = self.log_text().splitlines()
        errors = [
            line for line in lines if re.search(r"Traceback|\bERROR\b|\bCRITICAL\b", line) and not BENIGN.search(line)
        ]
        return errors + [
            f"a secret in: {line[:80]}" for line in lines for secret in secrets if secret and secret in line
        ]


@contextmanager
def running_assistant(
    rasa_port: int,
    actions_port: int,
    database_url: str,
    database: Path | None = None,
    extra_env: dict | None = None,
    secrets: tuple = (),
) -> Iterator[Assistant]:
    """start_assistant for a fixture: once every test that used the servers is done, their whole logs
    (not only what earlier tests wrote) must hold no traceback, no error and none of `secrets`."""
    servers = start_assistant(rasa_port, actions_port, database_url, database, extra_env)
    try:
        server = next(servers)
        yield server
        problems = server.log_problems(secrets)
        assert not problems, "\n".join(problems[:20])
    finally:
        servers.close()


def start_assistant(
    rasa_port: int, actions_port: int, database_url: str, database: Path | None = None, extra_env: dict | None = None
) -> Iterator[Assistant]:
    """Both servers started by scripts/run.sh on the given ports, both processes on `database_url`."""
    token = uuid.uuid4().hex
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(actions_port),
        "ACTION_SERVER_URL": f"http://localhost:{actions_port}/webhook",
        "RASA_API_TOKEN": token,
        "DATABASE_URL": database_url,
        "APP_ENV": "development",
        "RATE_LIMIT_CLIENT": "1000000",  # every test talks from 127.0.0.1: only the per-conversation limit applies
        **(extra_env or {}),
    }
    for log in Assistant(rasa_port, actions_port, token).logs:
        log.unlink(missing_ok=True)
    process = launch("run.sh", env, "The assistant is ready", 300)
    server = Assistant(rasa_port, actions_port, token, database, database_url)
    try:
        yield server
    finally:
        stop_group(process)


def launch(script: str, env: dict, ready: str, seconds: float) -> subprocess.Popen:
    """scripts/<script> started in a process group of its own, once it printed `ready`; else the test fails."""
    process = subprocess.Popen(
        [str(ROOT / "scripts" / script)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + seconds
    for line in process.stdout:  # type: ignore[union-attr]
        output.append(line)
        if ready in line or time.monotonic() > deadline:
            break
    if process.poll() is not None or not any(ready in line for line in output):
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the script and its servers: nothing keeps holding the ports
        except ProcessLookupError:
            pass  # it stopped by itself, and its servers with it
        pytest.fail(f"scripts/{script} did not start:\n" + "".join(output))
    return process


def stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C to a launched script's group, then SIGKILL after 30 s."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def helpdesk_env(receiver: Receiver) -> dict:
    return {
        "HELPDESK_MODE": "generic",
        "HELPDESK_URL": f"{receiver.url}/hook",
        "HELPDESK_SECRET": HELPDESK_SECRET,
        "HELPDESK_WEBHOOK_TOKEN": CHATWOOT_WEBHOOK_TOKEN,
        "HELPDESK_WEBHOOK_SECRET": CHATWOOT_WEBHOOK_SECRET,
        "HELPDESK_POLL_SECONDS": "0.3",
        "HELPDESK_RETRY_SECONDS": "0.2",
    }


def postgres_database(name: str) -> str:
    """The URL of a database of its own on PG_URL's server (a benchmark's), created when missing."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        if not connection.execute(text(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")).first():
            connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def migrate(url: str) -> None:
    """An empty database at `url` (PostgreSQL: its public schema dropped first), migrated with Alembic."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    if url.startswith("postgresql"):
        with engine_for(url).begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def load_demo_data(url: str) -> None:
    from support import demo_data

    with session_scope(engine_for(url)) as session:
        demo_data.load(session)


def prepare_database(url: str) -> None:
    """An empty database at `url`, migrated with Alembic and filled with the demo data."""
    migrate(url)
    load_demo_data(url)


_MIGRATED: Dict[str, Path] = {}  # what this test process already migrated: a SQLite template, or a PG URL


def fresh_demo_database(url: str) -> None:
    """prepare_database for the many tests that each want a fresh one, with the migrations run once per
    test process: SQLite copies a migrated template file, PostgreSQL empties every table (identities
    restarted); then the demo data is loaded."""
    from sqlalchemy import text

    if url.startswith("sqlite"):
        if "sqlite" not in _MIGRATED:
            template = Path(tempfile.mkdtemp(prefix="assistant-template-")) / "template.db"
            migrate(f"sqlite:///{template}")
            _MIGRATED["sqlite"] = template
        shutil.copyfile(_MIGRATED["sqlite"], url.split("///", 1)[1])
    elif url not in _MIGRATED:
        migrate(url)
        _MIGRATED[url] = Path()
    else:
        tables = ", ".join(table.name for table in m.Base.metadata.sorted_tables)
        with engine_for(url).begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    load_demo_data(url)


def add_past_due_customer(
    session: Session, email: str, language: str = "en", last4: str = "4444", now: datetime | None = None
) -> None:
    """A new admin whose monthly Standard renewal failed two days ago for insufficient funds (its card
    otherwise valid): a customer of its own for a test or a benchmark that changes an account."""
    now = now or datetime.now(timezone.utc)
    plan = session.execute(select(m.Plan).where(m.Plan.code == "standard")).scalar_one()
    portal = email.split("@", 1)[1]
    account = m.Account(portal=portal, name=portal.split(".")[0].title(), users_in_use=3, storage_used_mb=1000)
    session.add(account)
    session.flush()
    session.add(m.User(account_id=account.id, email=email, name="Admin", role=Role.ADMIN, language=language))
    subscription = m.Subscription(
        account_id=account.id,
        plan_id=plan.id,
        billing_cycle=Cycle.MONTHLY,
        status=SubscriptionStatus.PAST_DUE,
        current_period_end=now - timedelta(days=2),
    )
    session.add(subscription)
    session.add(m.PaymentMethod(account_id=account.id, brand="visa", last4=last4, exp_month=12, exp_year=now.year + 2))
    session.flush()
    invoice = m.Invoice(
        account_id=account.id,
        subscription_id=subscription.id,
        amount_minor=plan.monthly_price_minor,
        currency=plan.currency,
        period_start=now - timedelta(days=2),
        period_end=now + timedelta(days=28),
        status=InvoiceStatus.OPEN,
        created_at=now - timedelta(days=2),
    )
    session.add(invoice)
    session.flush()
    session.add(
        m.PaymentAttempt(
            invoice_id=invoice.id,
            attempted_at=now - timedelta(days=2),
            amount_minor=invoice.amount_minor,
            currency=invoice.currency,
            outcome=AttemptOutcome.FAILED,
            failure_reason=FailureReason.INSUFFICIENT_FUNDS,
        )
    )


def new_past_due_customer(url: str, language: str = "en") -> str:
    """add_past_due_customer in its own transaction, with a unique email; returns the email."""
    email = f"admin@{uuid.uuid4().hex[:10]}.example"
    with session_scope(engine_for(url)) as session:
        add_past_due_customer(session, email, language)
    return email
