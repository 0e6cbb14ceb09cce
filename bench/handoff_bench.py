"""Handoff figures: tickets opened per second from 8 threads, and helpdesk outbox delivery to a loopback
helpdesk (after an hour-long outage), on SQLite and PostgreSQL.

    python bench/handoff_bench.py --database sqlite|postgresql [--tickets 400] [--threads 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy.exc import OperationalError

from support.db.engine import engine_for
from support.handoff.tickets import request_handoff
from support.handoff.transcript import HandoffRequest, Line
from support.helpdesk.outbox import pending_count
from support.helpdesk.transports import GenericWebhook
from support.helpdesk.worker import deliver_due
from tests.helpers.loopback import Receiver
from tests.helpers.server import PG_URL, prepare_database

NOW = datetime.now(timezone.utc)
USERS = ["admin@acme.example", "admin@globex.example", "admin@umbrella.example", None]


def request(index: int) -> HandoffRequest:
    lines = [
        Line(f"user:{index}:{n}", NOW, "customer", f"message {n} with card 4242 4242 4242 4242") for n in range(10)
    ]
    return HandoffRequest(
        f"bench-{index}",
        "socketio",
        "fr" if index % 2 else "en",
        USERS[index % 4],
        "customer_request",
        "renewal_failed",
        lines,
    )


def percentile(values: list, share: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * share))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    os.environ["HELPDESK_MODE"] = "generic"
    url = PG_URL if args.database == "postgresql" else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    prepare_database(url)
    engine = engine_for(url)

    def timed(index: int) -> Optional[float]:
        start = time.perf_counter()
        try:
            request_handoff(engine, request(index), NOW)
        except OperationalError:  # over the 2 s budget: the customer gets the support contact instead
            return None
        return (time.perf_counter() - start) * 1000

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        results = list(pool.map(timed, range(args.tickets)))
    elapsed = time.perf_counter() - start
    latencies = [value for value in results if value is not None]
    print(
        f"[{args.database}] {args.tickets} handoffs (10 transcript lines each) from {args.threads} threads: "
        f"{len(latencies) / elapsed:.0f} tickets/s, p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms, "
        f"{len(results) - len(latencies)} over the 2 s database budget"
    )

    receiver = Receiver()
    try:
        transport = GenericWebhook(f"{receiver.url}/hook", "bench-secret")
        receiver.fail_next = 10**9  # the helpdesk is down for an hour of simulated time
        now = NOW
        for _ in range(120):
            deliver_due(engine, transport, now, limit=args.tickets)
            now += timedelta(seconds=30)
        tries_while_down = len(receiver.calls)
        receiver.fail_next = 0
        start = time.perf_counter()
        passes = 0
        while pending_count(engine):
            deliver_due(engine, transport, now + timedelta(hours=1), limit=args.tickets)
            passes += 1
        elapsed = time.perf_counter() - start
        delivered = receiver.accepted()
        print(
            f"[{args.database}] helpdesk down for 1 h (simulated): {tries_while_down} failed requests for "
            f"{args.tickets} tickets (backoff); back up: {len(delivered)} delivered in {elapsed:.2f} s "
            f"({len(delivered) / elapsed:.0f}/s, {passes} pass(es)), "
            f"{len({c.headers['Idempotency-Key'] for c in delivered})} distinct keys"
        )
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
