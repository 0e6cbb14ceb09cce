"""Rasa replicas and action servers behind nginx, started by scripts/cluster.sh as `make cluster` starts them, for
the cluster test and the replica benchmark."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, Iterator, Optional

import redis
import requests
from sqlalchemy import text

from support.db.engine import engine_for
from tests.helpers.server import ROOT, Assistant, fresh_demo_database, launch, postgres_database, stop_group

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
# deploy/nginx.conf.template's access log: address [time] "request" status upstreams...
SOCKETIO_REQUEST = re.compile(r'(\S+) \[[^\]]*\] "\S+ /socket\.io/[^"]*" \d+ ((?:\S+:\d+, )*\S+:\d+) ')


class Cluster:
    def __init__(self, port: int, replicas: int, env: Dict[str, str]) -> None:
        self.port, self.env = port, env
        self.url = f"http://127.0.0.1:{port}"
        self.rasa_ports = tuple(port + 100 + n for n in range(replicas))
        self.run_dir = ROOT / ".run" / f"cluster-{port}"
        self.token = env["RASA_API_TOKEN"]
        self.database_url = env["DATABASE_URL"]

    def replica(self, port: int) -> Assistant:
        return Assistant(port, 0, self.token, database_url=self.database_url)

    def pid(self, port: int) -> int:
        """The replica's process (cluster.sh starts it again when it stops: the newest one)."""
        return int((self.run_dir / f"rasa-{port}.pid").read_text())

    def tracker(self, conversation: str) -> dict:
        response = requests.get(
            f"{self.url}/conversations/{conversation}/tracker", params={"token": self.token}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def socketio_holders(self) -> Dict[str, int]:
        """The replica nginx last sent each client address's socket.io requests to (read from its access log;
        after a failed try it names both upstreams, the one that answered last)."""
        found: Dict[str, int] = {}
        for line in (self.run_dir / "nginx-access.log").read_text().splitlines():
            request = SOCKETIO_REQUEST.match(line)
            if request:
                found[request.group(1)] = int(request.group(2).split(", ")[-1].rsplit(":", 1)[1])
        return found

    def open_connections(self, port: int) -> int:
        """Established TCP connections to a replica's port (a websocket nginx holds open to it counts)."""
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                count += fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port
        return count

    def back(self, port: int, dead_pid: int) -> None:
        """Waits until cluster.sh has started the replica again (a new process) and it answers."""
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if self.pid(port) != dead_pid and requests.get(f"http://127.0.0.1:{port}/", timeout=2).ok:
                    return
            except (requests.RequestException, ValueError, OSError):
                pass
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
    """A cluster on a fresh demo database `database` (on the test PostgreSQL server), an empty conversation store
    and an empty Redis database."""
    database_url = postgres_database(database)
    fresh_demo_database(database_url)
    with engine_for(database_url).begin() as connection:  # Rasa's own table, made by the first replica otherwise
        connection.execute(text("DROP TABLE IF EXISTS events"))
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
        "RASA_API_TOKEN": uuid.uuid4().hex,
        "ACTION_SERVER_TOKEN": uuid.uuid4().hex,
        "RATE_LIMIT_CLIENT": "1000000",
        **(extra_env or {}),
    }
    run_dir = ROOT / ".run" / f"cluster-{port}"
    (run_dir / "nginx-access.log").unlink(missing_ok=True)
    for log in (run_dir / "logs").glob("*.log"):  # an earlier cluster's, with other replica counts
        log.unlink()
    process = launch("cluster.sh", env, "The cluster is ready", 400)
    cluster = Cluster(port, replicas, env)
    try:
        yield cluster
    finally:
        stop_group(process)
