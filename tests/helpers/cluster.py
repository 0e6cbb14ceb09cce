"""Rasa replicas and action servers behind nginx, started by scripts/cluster.sh as `make cluster` starts them, for
the cluster test and the replica benchmark."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import uuid
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional

import redis
import requests

from tests.helpers.server import ROOT, Assistant, fresh_demo_database, launch, postgres_database, stop_group

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"


class Cluster:
    def __init__(self, port: int, replicas: int, env: Dict[str, str]) -> None:
        self.port, self.env = port, env
        self.url = f"http://127.0.0.1:{port}"
        self.rasa_ports = tuple(port + 100 + n for n in range(replicas))
        self.run_dir = ROOT / ".run" / f"cluster-{port}"
        self.token = env["RASA_API_TOKEN"]
        self.database_url = env["DATABASE_URL"]
        self.restarted: List[subprocess.Popen] = []

    def replica(self, port: int) -> Assistant:
        return Assistant(port, 0, self.token, database_url=self.database_url)

    def pid(self, port: int) -> int:
        return int((self.run_dir / f"rasa-{port}.pid").read_text())

    def tracker(self, conversation: str) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def socketio_replica(self, since: int = 0) -> Optional[int]:
        """The replica nginx sent the latest socket.io request to (its access log names the upstream)."""
        lines = (self.run_dir / "nginx-access.log").read_text().splitlines()[since:]
        ports = [
            int(found.group(1)) for line in lines if (found := re.search(r"/socket\.io/\S* .*127\.0\.0\.1:(\d+)", line))
        ]
        return ports[-1] if ports else None

    def access_log_lines(self) -> int:
        path = self.run_dir / "nginx-access.log"
        return len(path.read_text().splitlines()) if path.exists() else 0

    def restart(self, port: int) -> None:
        """The replica started again as cluster.sh starts it; returns once it answers."""
        log = (self.run_dir / "logs" / f"rasa-{port}-restarted.log").open("w")
        command = [
            str(ROOT / ".venv" / "bin" / "rasa"), "run", "--model", "models/assistant.tar.gz", "--interface",
            "127.0.0.1", "--port", str(port), "--enable-api", "--auth-token", self.token, "--credentials",
            "credentials.yml", "--endpoints", str(self.run_dir / "endpoints.yml"),
        ]  # fmt: skip
        env = {**self.env, "REFUSE_DB_ON_EVENT_LOOP": "1"}
        self.restarted.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(1)
        raise AssertionError(f"the replica on port {port} did not come back")

    def kill(self, port: int) -> None:
        os.kill(self.pid(port), signal.SIGKILL)


@contextmanager
def running_cluster(
    port: int,
    database: str,
    redis_url: str,
    replicas: int = 2,
    actions: int = 2,
    extra_env: Optional[Dict[str, str]] = None,
) -> Iterator[Cluster]:
    """A cluster on a fresh demo database `database` (on the test PostgreSQL server) and an empty Redis database."""
    database_url = postgres_database(database)
    fresh_demo_database(database_url)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RABBITMQ_URL": RABBITMQ_URL,
        "PORT": str(port),
        "REPLICAS": str(replicas),
        "ACTIONS": str(actions),
        "KEEP_GOING": "1",
        "RASA_API_TOKEN": uuid.uuid4().hex,
        "ACTION_SERVER_TOKEN": uuid.uuid4().hex,
        "RATE_LIMIT_CLIENT": "1000000",
        **(extra_env or {}),
    }
    (ROOT / ".run" / f"cluster-{port}" / "nginx-access.log").unlink(missing_ok=True)
    process = launch("cluster.sh", env, "The cluster is ready", 400)
    cluster = Cluster(port, replicas, env)
    try:
        yield cluster
    finally:
        for replica in cluster.restarted:
            replica.terminate()
            replica.wait(timeout=30)
        stop_group(process)
