"""Payment retry benchmark: retries per second with concurrency, and p95 of one retry (sandbox gateway).

    python bench/retry_bench.py [--database sqlite|postgresql] [--accounts 400] [--threads 8]

Fills a fresh database with past_due accounts (one open invoice each), then retries every invoice
once from a pool of threads, as many chat sessions would. Prints throughput and latency percentiles.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from support.billing.payment_retry import retry_payment
from support.clock import now_utc
from support.db.engine import engine_for, session_scope
from support.payments.sandbox import SandboxGateway
from tests.helpers.server import PG_URL, add_past_due_customer, prepare_database


def add_past_due_accounts(url: str, count: int) -> list[str]:
    emails = [f"admin@bench{i}.example" for i in range(count)]
    with session_scope(engine_for(url)) as session:
        for email in emails:
            add_past_due_customer(session, email, last4="4242")
    return emails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--accounts", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db" if args.database == "sqlite" else PG_URL
        prepare_database(url)
        emails = add_past_due_accounts(url, args.accounts)
        gateway, engine = SandboxGateway(), engine_for(url)

        def one(email: str) -> tuple[str, float]:
            started = time.perf_counter()
            outcome = retry_payment(engine, gateway, email, "bench", "en", now_utc(), 3)
            return outcome.status, (time.perf_counter() - started) * 1000

        started = time.perf_counter()
        with ThreadPoolExecutor(args.threads) as pool:
            results = list(pool.map(one, emails))
        elapsed = time.perf_counter() - started
    latencies = sorted(ms for _, ms in results)
    succeeded = sum(status == "succeeded" for status, _ in results)
    print(
        f"{args.database}: {len(results)} retries with {args.threads} threads in {elapsed:.2f} s "
        f"= {len(results) / elapsed:.0f} retries/s; {succeeded} succeeded, {gateway.charges} charges"
    )
    print(
        f"one retry: p50 {statistics.median(latencies):.1f} ms, "
        f"p95 {latencies[int(0.95 * (len(latencies) - 1))]:.1f} ms, max {latencies[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()
