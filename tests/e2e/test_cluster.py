"""Two Rasa replicas and two action servers behind nginx (scripts/cluster.sh, as `make cluster` starts them) on
PostgreSQL, Redis and RabbitMQ: one replica is killed (SIGKILL) while conversations go on, and nothing is lost or
handled twice; an agent's reply reaches a widget held by the other replica; the killed replica comes back."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, Iterator, List

import pytest
import redis
import requests

from support.identity import issue_token
from tests.helpers.conversation import reference_in, texts
from tests.helpers.server import PG_URL, ROOT, Assistant, prepare_database
from tests.helpers.socketio_client import ChatClient

PORT = int(os.environ.get("TEST_CLUSTER_PORT", 18080))
RASA_PORTS = (PORT + 100, PORT + 101)
REDIS_URL = "redis://127.0.0.1:6379/5"
AGENT = ("agent", "agent-dev-password")


class Cluster:
    def __init__(self, process: subprocess.Popen, env: Dict[str, str], database_url: str) -> None:
        self.process, self.env, self.database_url = process, env, database_url
        self.url = f"http://127.0.0.1:{PORT}"
        self.run_dir = ROOT / ".run" / f"cluster-{PORT}"
        self.token = env["RASA_API_TOKEN"]
        self.restarted: List[subprocess.Popen] = []

    def replica(self, port: int) -> Assistant:
        return Assistant(port, 0, self.token)

    def pid(self, port: int) -> int:
        return int((self.run_dir / f"rasa-{port}.pid").read_text())

    def tracker(self, conversation: str) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=30
        )
        return response.json()

    def restart(self, port: int) -> subprocess.Popen:
        """The replica started again as cluster.sh starts it."""
        log = (self.run_dir / "logs" / f"rasa-{port}-restarted.log").open("w")
        command = [
            str(ROOT / ".venv" / "bin" / "rasa"), "run", "--model", "models/assistant.tar.gz", "--interface",
            "127.0.0.1", "--port", str(port), "--enable-api", "--auth-token", self.token, "--credentials",
            "credentials.yml", "--endpoints", str(self.run_dir / "endpoints.yml"),
        ]  # fmt: skip
        env = {**self.env, "REFUSE_DB_ON_EVENT_LOOP": "1"}
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.restarted.append(process)
        return process


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    database_url = PG_URL.rsplit("/", 1)[0] + "/assistant_cluster_test"
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = 'assistant_cluster_test'")).first():
            connection.execute(text("CREATE DATABASE assistant_cluster_test"))
    admin.dispose()
    prepare_database(database_url)
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "PORT": str(PORT),
        "REPLICAS": "2",
        "ACTIONS": "2",
        "KEEP_GOING": "1",
        "RASA_API_TOKEN": uuid.uuid4().hex,
        "ACTION_SERVER_TOKEN": uuid.uuid4().hex,
        "RATE_LIMIT_CLIENT": "1000000",
    }
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "cluster.sh")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output: List[str] = []
    deadline = time.monotonic() + 400
    for line in process.stdout:  # type: ignore[union-attr]
        output.append(line)
        if "The cluster is ready" in line or time.monotonic() > deadline:
            break
    if not any("The cluster is ready" in line for line in output):
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail("the cluster did not start:\n" + "".join(output))
    found = Cluster(process, env, database_url)
    try:
        yield found
    finally:
        for replica in found.restarted:
            replica.terminate()
            replica.wait(timeout=30)
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _say(cluster: Cluster, sender: str, text: str, message_id: str, metadata: dict | None = None) -> list:
    """A REST message with its client id, retried (same id) until a replica answers it."""
    body = {"sender": sender, "message": text, "message_id": message_id, "metadata": metadata or {}}
    deadline = time.monotonic() + 90
    while True:
        try:
            response = requests.post(f"{cluster.url}/webhooks/rest/webhook", json=body, timeout=30)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{sender}/{message_id} never answered"
        time.sleep(0.5)


def _conversation(cluster: Cluster, n: int, kill_after: list) -> Dict[str, list]:
    sender = f"cluster-{n}-{uuid.uuid4().hex[:8]}"
    answers = {}
    for turn, text in enumerate(("how do I cancel my subscription?", "and what about telephony credits?", "thanks")):
        answers[f"{sender}:{turn}"] = _say(cluster, sender, text, f"m{turn}")
        if turn == 0:
            kill_after.append(sender)
            while len(kill_after) < 999 and not os.path.exists(cluster.run_dir / "killed"):
                time.sleep(0.05)
    return answers


def test_a_replica_killed_under_load_loses_nothing_and_handles_nothing_twice(cluster: Cluster) -> None:
    paused_sender = f"cluster-paused-{uuid.uuid4().hex[:6]}"
    handed = texts(_say(cluster, paused_sender, "I want to talk to a person", "h0"))
    reference = reference_in(handed)
    (cluster.run_dir / "killed").unlink(missing_ok=True)
    started: list = []
    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(_conversation, cluster, n, started) for n in range(10)]
        while len(started) < 10:
            time.sleep(0.05)
        victim = RASA_PORTS[0]
        (cluster.run_dir / "killed").touch()  # the second turns start...
        time.sleep(0.3)
        os.kill(cluster.pid(victim), signal.SIGKILL)  # ...and the replica dies under them
        answers = {k: v for future in futures for k, v in future.result().items()}
    assert len(answers) == 30 and all(texts(answer) for answer in answers.values())
    for key in {k.rsplit(":", 1)[0] for k in answers}:
        events = cluster.tracker(f"rest-{key}")["events"]
        ids = [e.get("message_id") for e in events if e["event"] == "user"]
        assert ids == ["m0", "m1", "m2"], (key, ids)  # each message once, in order, none missing
    # the same message sent again (a client that never saw the answer) is answered, not handled again
    first = next(iter(answers))
    sender, turn = first.rsplit(":", 1)
    again = _say(cluster, sender, "how do I cancel my subscription?", f"m{turn}")
    assert again == answers[first]
    assert [e.get("message_id") for e in cluster.tracker(f"rest-{sender}")["events"] if e["event"] == "user"] == [
        "m0",
        "m1",
        "m2",
    ]
    # a conversation a person owns stays silent whichever replica gets its next message
    assert _say(cluster, paused_sender, "hello? anyone?", "h1") == []
    ticket = requests.get(f"{cluster.url}/agent/api/tickets/{reference}", auth=AGENT, timeout=30).json()["ticket"]
    assert "hello? anyone?" in [line["text"] for line in ticket["transcript"]]

    cluster.restart(victim)
    replica = cluster.replica(victim)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(replica.url, timeout=2).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(1)
    assert texts(replica.say("how do I cancel?", f"back-{uuid.uuid4().hex[:6]}"))  # it takes traffic again


def test_an_agent_reply_reaches_a_widget_held_by_the_other_replica(cluster: Cluster) -> None:
    holder, other = cluster.replica(RASA_PORTS[1]), cluster.replica(RASA_PORTS[0])
    token = issue_token("admin@globex.example")
    with ChatClient(holder, {"token": token, "locale": "en-US"}) as chat:
        reference = reference_in(chat.send("I'd like to talk to a person"))
        # the reply goes to the other replica: Redis carries it to the replica that holds the widget
        reply = requests.post(
            f"{other.url}/agent/api/tickets/{reference}/reply",
            json={"text": "Hello from the desk"},
            auth=AGENT,
            timeout=30,
        )
        assert reply.status_code == 200 and reply.json()["delivered"] is True
        assert "Hello from the desk" in chat.receive()
        requests.post(f"{cluster.url}/agent/api/tickets/{reference}/resolve", auth=AGENT, timeout=30)
    # the same customer reconnects through nginx and finds the conversation's history
    with ChatClient(Assistant(PORT, 0, cluster.token), {"token": token, "locale": "en-US"}) as again:
        assert any("Hello from the desk" in (m.get("text") or "") for m in again.history)


def test_one_conversations_messages_sent_to_both_replicas_at_once_are_handled_one_at_a_time(cluster: Cluster) -> None:
    """Rasa's Redis lock store (RasaHQ/rasa#9213: two replicas taking a ticket at the same instant): each pair of
    messages, one per replica at the same moment, must both be handled, one after the other, nothing lost."""
    first, second = cluster.replica(RASA_PORTS[0]), cluster.replica(RASA_PORTS[1])
    sender = f"race-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(8):
            bodies = [
                {"sender": sender, "message": "how do I cancel my subscription?", "message_id": f"a{n}"},
                {"sender": sender, "message": "what happens to my data after cancelling?", "message_id": f"b{n}"},
            ]
            answers = list(
                pool.map(
                    lambda pair: requests.post(f"{pair[0].url}/webhooks/rest/webhook", json=pair[1], timeout=60),
                    zip((first, second), bodies),
                )
            )
            assert all(a.status_code == 200 and a.json() for a in answers)
    events = [e for e in cluster.tracker(f"rest-{sender}")["events"] if e["event"] in ("user", "bot", "action")]
    turns: List[str] = []
    for event in events:
        if event["event"] == "user":
            turns.append(event["message_id"])
        elif event["event"] == "action" and event["name"] == "action_listen" and turns:
            turns[-1] += ":done"
    assert len(turns) == 16 and all(turn.endswith(":done") for turn in turns), turns  # no turn cut by another
    assert sorted(t.split(":")[0] for t in turns) == sorted([f"a{n}" for n in range(8)] + [f"b{n}" for n in range(8)])
