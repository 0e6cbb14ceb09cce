"""Production is the default: without APP_ENV=development the servers refuse to start without real
secrets, and once started nothing of the development mode is reachable."""

from __future__ import annotations

import os
import secrets
import subprocess
import uuid
from typing import Iterator

import jwt
import pytest
import requests

from support.identity import DEV_SECRET, issue_token
from tests.helpers.conversation import texts
from tests.helpers.server import ROOT, Assistant, prepare_database, running_assistant

SECRET, ACTION_TOKEN, API_KEY, AGENT_PASSWORD = (secrets.token_urlsafe(32) for _ in range(4))
SECRETS = (SECRET, ACTION_TOKEN, API_KEY, AGENT_PASSWORD)


@pytest.fixture(scope="module")
def production(tmp_path_factory) -> Iterator[Assistant]:
    database = tmp_path_factory.mktemp("production") / "assistant.db"
    prepare_database(f"sqlite:///{database}")
    env = {
        "APP_ENV": "production",
        "AUTH_JWT_SECRET": SECRET,
        "ACTION_SERVER_TOKEN": ACTION_TOKEN,
        "REST_API_KEYS": f"crm:{API_KEY}",
        "AGENT_CREDENTIALS": f"alice:{AGENT_PASSWORD}",
    }
    with running_assistant(15009, 15059, f"sqlite:///{database}", database, env, SECRETS) as server:
        yield server


def _rest(server: Assistant, body: dict, key: str | None = API_KEY) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return requests.post(f"{server.url}/webhooks/rest/webhook", json=body, headers=headers, timeout=60)


def test_without_real_secrets_the_servers_refuse_to_start() -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("APP_ENV", "AUTH_JWT_SECRET", "AUTH_JWT_PUBLIC_KEY", "ACTION_SERVER_TOKEN")
    }
    result = subprocess.run(
        [str(ROOT / "scripts" / "run.sh")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "RASA_PORT": "15010", "ACTIONS_PORT": "15060"},
    )
    assert result.returncode != 0
    assert "AUTH_JWT_SECRET" in result.stderr + result.stdout and "ACTION_SERVER_TOKEN" in result.stderr + result.stdout
    assert "The assistant is ready" not in result.stdout


def test_no_demo_sign_in_and_no_development_agent(production: Assistant) -> None:
    for path in ("/chat/", "/demo/users", "/demo/token?email=admin@acme.example"):
        assert requests.get(f"{production.url}{path}", timeout=10).status_code == 404, path
    me = f"{production.url}/agent/api/me"
    assert requests.get(me, auth=("agent", "agent-dev-password"), timeout=10).status_code == 401
    assert requests.get(me, auth=("alice", AGENT_PASSWORD), timeout=10).json() == {"agent": "alice", "manager": False}


def test_rest_needs_an_integration_key(production: Assistant) -> None:
    body = {"sender": uuid.uuid4().hex, "message": "how do I cancel my subscription?"}
    for key in (None, "guess", API_KEY[:-1]):
        assert _rest(production, body, key).status_code == 401
    assert "cancel" in texts(_rest(production, body).json()).lower()


def test_only_tokens_signed_with_the_real_secret_sign_in(production: Assistant) -> None:
    question = "why did my renewal fail?"
    developer = jwt.encode({"sub": "admin@acme.example", "exp": 4102444800}, DEV_SECRET, "HS256")
    for token, signed_in in ((developer, False), (issue_token("admin@acme.example", secret=SECRET), True)):
        body = {"sender": uuid.uuid4().hex, "message": question, "metadata": {"token": token, "locale": "en-GB"}}
        answer = texts(_rest(production, body).json())
        assert ("4242" in answer) is signed_in and ("sign in" in answer) is not signed_in
