"""Throughput and latency with 1, 2, 3... Rasa replicas (each with its action server) behind nginx, on PostgreSQL,
Redis and RabbitMQ, started by scripts/cluster.sh as `make cluster` starts them.

    python -m bench.replica_bench [--replicas 1 2 3] [--levels 10 40] [--seconds 20] [--transport both]
    make bench-load REPLICAS="1 2 3"

The client and the scripts are bench/load_bench.py's (closed loop, French and English, REST and the widget's
socket.io; the widgets connect from 127.0.0.2-127.0.0.41 so that nginx's address hash spreads them as it spreads
real customers). CPU seconds per turn are read from /proc for each Rasa replica, each action server, nginx, and the
machine's PostgreSQL and Redis, so that the figures say what one turn costs each part. Before the load, --idle
silent widgets are held open (customers reading) to weigh an open connection. The README's sizing is computed
from these figures. Writes bench/out/replicas.json and prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

os.environ.setdefault("APP_ENV", "development")  # the demo tokens are signed with the development secret

from bench.load_bench import (  # noqa: E402
    OUT,
    SERVER_ENV,
    ProcessTree,
    Target,
    WidgetConversation,
    _errors,
    _ms,
    drive,
    levels_of,
    make_identities,
    transports_of,
)
from bench.load_scripts import ASSISTANT_SCRIPTS, mix  # noqa: E402
from tests.helpers.cluster import running_cluster  # noqa: E402

PORT = 15080
DATABASE = "assistant_replica_bench"
REDIS_URL = "redis://127.0.0.1:6379/6"
SOURCES = [f"127.0.0.{n}" for n in range(2, 42)]
SHARED = {"postgresql": 5432, "redis": 6379}  # the machine's services: their whole CPU counts


def trees(port: int, replicas: int) -> List[ProcessTree]:
    found = [ProcessTree.serving(f"rasa-{n + 1}", port + 100 + n) for n in range(replicas)]
    found += [ProcessTree.serving(f"actions-{n + 1}", port + 200 + n) for n in range(replicas)]
    found.append(ProcessTree.serving("nginx", port))
    return found + [ProcessTree.serving(name, service) for name, service in SHARED.items()]


def bench(args: argparse.Namespace, replicas: int) -> Dict[str, Any]:
    runs = mix(ASSISTANT_SCRIPTS, transports_of(args.transport), args.seed)
    with running_cluster(PORT, DATABASE, REDIS_URL, replicas, replicas, SERVER_ENV) as cluster:
        identities = make_identities(cluster.database_url, runs, len(levels_of(args)), args.seconds)
        target = Target(f"{replicas} replicas", cluster.url, trees(PORT, replicas), runs, identities, sources=SOURCES)
        idle = None
        if args.idle:  # first, while the servers' memory holds nothing of the load yet
            rasa = [tree for tree in target.trees if tree.name.startswith("rasa")]
            idle = asyncio.run(idle_widgets(cluster.url, args.idle, rasa))
        report = {**asyncio.run(drive(target, ASSISTANT_SCRIPTS, args)), "idle_widgets": idle}
        logs = sorted((cluster.run_dir / "logs").glob("*.log"))
        report["server_log_problems"] = [
            f"{path.name}: {line[:160]}"
            for path in logs
            for line in path.read_text(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ][:20]
    return {"replicas": replicas, **report}


async def idle_widgets(url: str, count: int, rasa: List[ProcessTree], seconds: float = 30.0) -> Dict[str, Any]:
    """`count` widgets connected and silent (customers reading): what they cost the Rasa servers in memory, and in
    CPU for socket.io's pings over `seconds`."""
    before_rss = sum(tree.rss_mb() for tree in rasa)
    widgets = [WidgetConversation(url, {"locale": "en-GB"}, 60.0, SOURCES[n % len(SOURCES)]) for n in range(count)]
    opened: List[Optional[str]] = []
    for first in range(0, count, 50):  # as customers arrive, not all in one instant (Sanic's accept backlog)
        opened += await asyncio.gather(*(widget.open() for widget in widgets[first : first + 50]))
    await asyncio.sleep(5)
    cpu_before = sum(tree.cpu_seconds() for tree in rasa)
    await asyncio.sleep(seconds)
    cpu = sum(tree.cpu_seconds() for tree in rasa) - cpu_before
    rss = sum(tree.rss_mb() for tree in rasa) - before_rss
    await asyncio.gather(*(widget.close() for widget in widgets))
    return {
        "widgets": count,
        "connected": sum(1 for problem in opened if problem is None),
        "rss_mb_added": round(rss, 1),
        "kb_per_widget": round(1024 * rss / max(1, sum(1 for problem in opened if problem is None)), 1),
        "cpu_share_of_a_core": round(cpu / seconds, 3),
    }


def cpu_ms(level: Dict[str, Any], prefix: str) -> float:
    """CPU milliseconds per turn of every process whose name starts with `prefix`."""
    return 1000 * sum(p["cpu_seconds_per_turn"] for name, p in level["processes"].items() if name.startswith(prefix))


def table(results: List[Dict[str, Any]]) -> str:
    header = (
        f"{'replicas':>8} {'load':<10} {'turns':>6} {'msg/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':<8} "
        f"{'CPU ms/turn: rasa':>17} {'actions':>8} {'nginx':>6} {'postgres':>9} {'redis':>6}"
    )
    lines = [header, "-" * len(header)]
    for result in results:
        for level in result["levels"]:
            latency = level["latency_ms"]
            lines.append(
                f"{result['replicas']:>8} {level['label']:<10} {level['turns']:>6} {level['messages_per_second']:>7.1f} "
                f"{_ms(latency['p50']):>7} {_ms(latency['p95']):>7} {_errors(level['errors']):<8} "
                f"{cpu_ms(level, 'rasa'):>17.1f} {cpu_ms(level, 'actions'):>8.1f} {cpu_ms(level, 'nginx'):>6.1f} "
                f"{cpu_ms(level, 'postgresql'):>9.1f} {cpu_ms(level, 'redis'):>6.1f}"
            )
    return "\n".join(lines)


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 40], help="closed-loop concurrencies")
    parser.add_argument("--seconds", type=float, default=20.0, help="per level")
    parser.add_argument("--transport", choices=["rest", "socketio", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a turn counts as timed out")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--idle", type=int, default=1000, help="silent widgets held open before the levels (0: none)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder of replicas.json (bench/out)")
    args = parser.parse_args(argv)
    args.open_rate = 0.0  # closed loops only: the replica counts compare at the same offered concurrency
    return args


def main(argv: List[str]) -> int:
    args = parse(argv)
    results = []
    for replicas in args.replicas:
        print(f"{replicas} Rasa replicas and {replicas} action servers behind nginx on port {PORT}...", flush=True)
        results.append(bench(args, replicas))
    report = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "transport": args.transport,
        "seconds_per_level": args.seconds,
        "results": results,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "replicas.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    for result in results:
        if result.get("idle_widgets"):
            idle = result["idle_widgets"]
            print(
                f"{result['replicas']} replicas, {idle['connected']} of {idle['widgets']} silent widgets connected: "
                f"+{idle['rss_mb_added']} MB ({idle['kb_per_widget']} kB each), "
                f"{idle['cpu_share_of_a_core']:.1%} of a core for their pings"
            )
    for result in results:
        for problem in result["server_log_problems"]:
            print(f"{result['replicas']} replicas, log: {problem}")
    print(f"Written: {args.out / 'replicas.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
