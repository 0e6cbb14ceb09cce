"""Hostile inputs, a bigger run than `make test`'s (tests/e2e/test_hostile_inputs.py), with the same generators
and checks (tests/helpers/hostile.py): both servers started here (ports 15013/15063) with the Telegram,
Messenger and Slack channels on a loopback stand-in, on a fresh PostgreSQL (or SQLite) database.

    python -m bench.hostile_bench --inputs 30000 [--seed S] [--threads 4] [--database postgresql|sqlite]
                                  [--budget SECONDS] [--include-known-defects]
    python -m bench.hostile_bench --seed S --show INDEX        # one input of a run, and its conversation

Prints the seed, the inputs per channel and family, those that went through the NLU, the elapsed time and
the rate, then the failures (seed index first) and the servers' log problems; exits 1 on any failure.
--include-known-defects also sends what reproduces the known defects (KNOWN_DEFECTS): their failures are
counted apart, and the misshapen webhooks leave tracebacks in the log.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

os.environ.setdefault("APP_ENV", "development")  # the demo tokens are signed with the development secret

from tests.helpers.hostile import DEFAULT_SEED, Batch, Mix, Runner, build_plan, shown  # noqa: E402
from tests.helpers.messengers import FACEBOOK_TOKEN, SECRETS, SLACK_TOKEN, TELEGRAM_TOKEN, messenger_env  # noqa: E402
from tests.helpers.platform_standin import PlatformStandIn  # noqa: E402
from tests.helpers.server import PG_URL, prepare_database, start_assistant  # noqa: E402

RASA_PORT, ACTIONS_PORT = 15013, 15063


def database(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="hostile-bench-")) / "assistant.db"
        return f"sqlite:///{path}", path
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = 'assistant_hostile_bench'")).first():
            connection.execute(text("CREATE DATABASE assistant_hostile_bench"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/assistant_hostile_bench", None


def show(plan: Any, index: int) -> None:
    job, item = plan.find(index)
    if item is None:
        print(f"no input #{index} in this plan ({plan.size} inputs)")
        return
    if isinstance(job, Batch):
        print(f"#{index}: {item.channel} edge case {item.family}, {shown(item.text)}")
        print({key: shown(value, 300) for key, value in item.extra.items()})
        return
    print(
        f"#{index} is in {job.channel} conversation {job.number}: language {job.language}, locale {job.locale}, "
        f"signed in as {job.account or 'nobody'} {job.extra or ''}"
    )
    for one in job.inputs:
        mark = ">>" if one is item else "  "
        details = f" {one.extra}" if one.extra and one.via != "event" else ""
        refused = " (refused)" if one.refused else ""
        print(
            f"{mark} #{one.index} {one.family} via {one.via}, reads as {one.language}{refused}: {shown(one.text)}{details}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", type=int, default=Mix().inputs, help="about how many inputs (default: make test's)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--budget", type=float, default=3600.0, help="seconds; jobs not started by then are skipped")
    parser.add_argument("--include-known-defects", action="store_true")
    parser.add_argument("--show", type=int, metavar="INDEX", help="print one input of the plan and stop")
    args = parser.parse_args()

    mix = Mix() if args.inputs == Mix().inputs else Mix().scaled(args.inputs)
    plan = build_plan(args.seed, mix, args.include_known_defects)
    if args.show is not None:
        show(plan, args.show)
        return 0
    print(
        f"hostile inputs: seed {args.seed}, {plan.size:,} inputs planned (plan {plan.fingerprint}), "
        f"{args.threads} threads, {mix}",
        flush=True,
    )
    url, path = database(args.database)
    prepare_database(url)
    with PlatformStandIn(TELEGRAM_TOKEN, FACEBOOK_TOKEN, SLACK_TOKEN) as standin:
        env = {**messenger_env(standin), "HELPDESK_MODE": "off"}
        servers = start_assistant(RASA_PORT, ACTIONS_PORT, url, path, env)
        assistant = next(servers)
        try:
            runner = Runner(assistant, standin, plan, args.threads, args.budget, lambda line: print(line, flush=True))
            report = runner.run()
            logs = assistant.log_problems(SECRETS)
        finally:
            servers.close()
    print(report.summary())
    print(f"{len(logs)} problems in the servers' logs" + "".join(f"\n  {line[:200]}" for line in logs[:10]))
    return 1 if report.unexpected() or report.skipped or (logs and not args.include_known_defects) else 0


if __name__ == "__main__":
    sys.exit(main())
