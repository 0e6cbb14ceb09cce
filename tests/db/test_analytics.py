"""The manager's figures on a known set of conversations, on real SQLite and PostgreSQL: Rasa's conversation
store (its `events` table, rows shaped as Rasa 3.6 writes them), tickets, ratings, payment retries, emails."""

from __future__ import annotations

from datetime import date

from support.analytics import DateRange, by_day, figures, text_report
from support.db.conversation_store import store_engine
from support.db.engine import engine_for
from tests.helpers.analytics_data import SPAN, fill_conversations, fill_tables


def test_the_figures_of_a_known_set_of_conversations(database_url) -> None:
    fill_conversations(database_url)
    fill_tables(database_url)
    report = figures(engine_for(database_url), store_engine(database_url), SPAN)
    assert report["summary"] == {
        "conversations": 3,
        "contained": 2,
        "containment_rate": 0.6667,
        "handoffs": 1,
        "handoff_rate": 0.3333,
        "user_messages": 6,
        "misunderstood": 2,
        "misunderstanding_rate": 0.3333,
        "csat_average": 4.0,
        "csat_answers": 2,
        "first_reply_minutes_median": 12.0,
        "resolution_minutes_median": 90.0,
        "payment_retries": 3,
        "emails_sent": 1,
        "emails_failed": 1,
    }
    tables = {name: table["rows"] for name, table in report["tables"].items()}
    assert tables["handoff_reasons"] == [["customer_request", 1]]
    assert tables["not_understood"] == [["Je suis [name], rappelez le [phone]", 1], ["what's the weather", 1]]
    assert by_day(tables["topics_per_day"]) == {
        "2030-01-07": {"cancel_subscription": 1, "renewal_failed": 1}
    }  # greet and handoff requests are not topics
    assert tables["languages"] == [["en", 1], ["fr", 1], ["unknown", 1]]
    assert tables["channels"] == [["rest", 1], ["socketio", 1], ["telegram", 1]]
    assert tables["csat"] == [[1, 0], [2, 0], [3, 1], [4, 0], [5, 1]]
    assert tables["payment_retries"] == [["bot", "failed", 1], ["bot", "succeeded", 1], ["dunning", "failed", 1]]
    assert tables["emails"] == [["sent", 1], ["queued", 1], ["failed", 1]]
    text = text_report(report)
    assert "containment_rate            66.7%" in text and "Jean" not in text and "06 12" not in text


def test_an_empty_range_has_no_rates_and_a_bad_range_is_refused(database_url) -> None:
    report = figures(
        engine_for(database_url), store_engine(database_url), DateRange(date(2031, 1, 1), date(2031, 1, 1))
    )
    assert report["summary"]["conversations"] == 0 and report["summary"]["containment_rate"] is None
    assert report["summary"]["csat_average"] is None
    for first, last in (("2030-02-01", "2030-01-01"), ("2029-01-01", "2030-06-01"), ("yesterday", None)):
        try:
            DateRange.parse(first, last, date(2030, 1, 1))
        except ValueError:
            continue
        raise AssertionError(f"{first}..{last} accepted")
