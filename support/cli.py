"""The command-line entry points (the Makefile's targets call them).

python -m support.cli demo-data [--reset]   the demo accounts (README), unless already loaded
python -m support.cli dunning               scheduled retries and downgrades (cron: README)
python -m support.cli helpdesk              one delivery pass of the helpdesk outbox
python -m support.cli token EMAIL           a signed token for a demo user, as the host website would issue it
python -m support.cli analytics [--from D] [--to D] [--csv TABLE]   the manager's figures (text, or one table as CSV)
python -m support.cli retention [--days N]  applies the retention period of product.yml (cron: README)
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable, Dict, List, Optional


def demo_data(args: argparse.Namespace) -> int:
    from support.demo_data import ensure_loaded

    loaded = ensure_loaded(args.reset)
    print("demo data loaded" if loaded else "demo data already present (use --reset to reload)")
    return 0


def dunning(args: argparse.Namespace) -> int:
    from support.adapters import configured_gateway
    from support.billing.dunning import run_dunning
    from support.clock import now_utc
    from support.db.engine import engine

    outcome = run_dunning(engine(), configured_gateway(), now_utc())
    print(f"retried: {len(outcome.retried)}, downgraded to free: {len(outcome.downgraded)}")
    return 0


def _one_pass(target: Optional[Any], deliver: Callable[..., Any], unset: str) -> int:
    """One delivery pass of an outbox to `target` (a helpdesk transport, an SMTP server); 1 when there is none."""
    from support.clock import now_utc
    from support.db.engine import engine

    logging.basicConfig(level=logging.INFO)
    if target is None:
        print(unset, file=sys.stderr)
        return 1
    print(deliver(engine(), target, now_utc()))
    return 0


def helpdesk(args: argparse.Namespace) -> int:
    from support.adapters import configured_transport
    from support.helpdesk.worker import deliver_due

    return _one_pass(
        configured_transport(), deliver_due, "HELPDESK_MODE is off or HELPDESK_URL is not set: nothing to deliver to."
    )


def analytics(args: argparse.Namespace) -> int:
    import csv

    from support.analytics import DateRange, csv_rows, figures, text_report
    from support.clock import now_utc
    from support.db.conversation_store import store_engine
    from support.db.engine import database_url, report_engine_for

    try:
        span = DateRange.parse(args.start, args.end, now_utc().date())
    except ValueError as problem:
        print(f"invalid range: {problem}", file=sys.stderr)
        return 2
    report = figures(report_engine_for(database_url()), store_engine(), span)
    if not args.csv:
        sys.stdout.write(text_report(report))
        return 0
    if args.csv not in report["tables"]:
        print(f"unknown table {args.csv!r}; one of {', '.join(report['tables'])}", file=sys.stderr)
        return 2
    columns, rows = csv_rows(report, args.csv)
    writer = csv.writer(sys.stdout)
    writer.writerow(columns)
    writer.writerows(rows)
    return 0


def retention(args: argparse.Namespace) -> int:
    from support.clock import now_utc
    from support.db.conversation_store import store_engine
    from support.db.engine import database_url, report_engine_for
    from support.retention import apply_retention
    from support.settings import product

    days = args.days or product().retention_days
    done = apply_retention(report_engine_for(database_url()), store_engine(), now_utc(), days)
    print(f"retention {days} days: " + ", ".join(f"{name} {count}" for name, count in done.items()))
    return 0


def emails(args: argparse.Namespace) -> int:
    from support.adapters import configured_smtp
    from support.emails.worker import deliver_due

    return _one_pass(configured_smtp(), deliver_due, "SMTP_URL is not set: the emails stay queued.")


def token(args: argparse.Namespace) -> int:
    from support.identity import issue_token

    print(issue_token(args.email))
    return 0


def check(args: argparse.Namespace) -> int:
    from support.settings import InsecureConfiguration, InvalidSettings, check_configuration

    try:
        check_configuration()
    except (InsecureConfiguration, InvalidSettings) as problem:
        print(f"Refusing to start: {problem}", file=sys.stderr)
        return 2
    return 0


def scrub_tokens(args: argparse.Namespace) -> int:
    from support.db.engine import database_url, trackers_url
    from support.db.scrub import scrub_tokens as scrub

    url = args.url or trackers_url(database_url())
    print(f"events changed: {scrub(url)}")
    return 0


COMMANDS: Dict[str, Callable[[argparse.Namespace], int]] = {
    "check": check,
    "scrub-tokens": scrub_tokens,
    "demo-data": demo_data,
    "dunning": dunning,
    "helpdesk": helpdesk,
    "emails": emails,
    "analytics": analytics,
    "retention": retention,
    "token": token,
}


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m support.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = main.add_subparsers(dest="command", required=True)
    commands.add_parser("demo-data", help="load the demo accounts").add_argument(
        "--reset", action="store_true", help="replace existing rows with fresh demo data"
    )
    commands.add_parser("dunning", help="scheduled payment retries and downgrades")
    commands.add_parser("helpdesk", help="one delivery pass of the helpdesk outbox")
    commands.add_parser("emails", help="one delivery pass of the email outbox (SMTP_URL)")
    commands.add_parser("token", help="a signed token for a user").add_argument("email")
    report = commands.add_parser("analytics", help="the support manager's figures over a range of days (UTC)")
    report.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: 30 days before --to)")
    report.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--csv", metavar="TABLE", help="one table as CSV (handoff_reasons, not_understood, ...)")
    commands.add_parser("retention", help="apply the retention period (product.yml)").add_argument(
        "--days", type=int, help="instead of retention_days (at least 30)"
    )
    commands.add_parser("check", help="the configuration a server would start with")
    commands.add_parser("scrub-tokens", help="remove customers' tokens from an older conversation store").add_argument(
        "url", nargs="?", help="the conversation store's database (default: the run's)"
    )
    return main


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
