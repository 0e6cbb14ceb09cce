"""Tickets on the real SQLite and PostgreSQL: summary, redaction, one ticket per conversation, agent steps."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.handoff.desk import TicketError, assign, close, detail, queue, record_reply
from support.handoff.hours import reply_expectation
from support.handoff.summary import infer_reason, infer_topic
from support.handoff.tickets import open_ticket, request_handoff
from support.handoff.transcript import HandoffRequest, Line, transcript
from support.redaction import redact_card_data
from tests.helpers.concurrency import run_at_once

NOW = datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "text, kept, removed",
    [
        ("my card is 4242 4242 4242 4242 and the cvv is 123", "[card number removed]", ["4242", "123"]),
        ("carte 4970-1012-3456-7895, cryptogramme : 987", "cryptogramme", ["4970", "987"]),
        ("numéro 4111111111111111 code de sécurité 4321", "[security code removed]", ["4111", "4321"]),
        ("123 is my CVC", "[security code removed]", ["123"]),
    ],
)
def test_card_numbers_and_security_codes_are_removed(text, kept, removed) -> None:
    redacted = redact_card_data(text)
    assert kept in redacted
    assert not any(secret in redacted for secret in removed)


@pytest.mark.parametrize(
    "text", ["invoice 2024 for 199 EUR", "call me at 06 12 34 56 78", "plan Professional, 12 users"]
)
def test_ordinary_numbers_are_kept(text) -> None:
    assert redact_card_data(text) == text


def _request(conversation: str, email: str | None = "admin@acme.example", language: str = "en") -> HandoffRequest:
    lines = [
        Line("user:1", NOW - timedelta(minutes=3), "customer", redact_card_data("why did my renewal fail?")),
        Line("bot:2", NOW - timedelta(minutes=3), "bot", "Your card expired."),
        Line("user:3", NOW - timedelta(minutes=1), "customer", redact_card_data("card 4242 4242 4242 4242 cvv 123")),
    ]
    return HandoffRequest(conversation, "socketio", language, email, "customer_request", "renewal_failed", lines)


def test_a_ticket_summarises_the_account_and_redacts_the_transcript(database_url, monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    with session_scope(engine_for(database_url)) as session:
        ticket, created = open_ticket(session, _request("conv-1"), NOW)
        reference = ticket.reference
    assert created and reference.startswith("HD-") and len(reference) == 9
    with session_scope(engine_for(database_url)) as session:
        ticket = detail(session, reference, NOW)
        deliveries = session.execute(select(m.HelpdeskDelivery)).scalars().all()
    facts = {fact["label"]: fact["value"] for fact in ticket["summary"]["facts"]}
    assert ticket["account"] == "acme.bitrix24.com" and ticket["user"] == "admin@acme.example"
    assert "Professional" in facts["Plan"] and "card expired" in facts["Last failure"]
    assert facts["Grace period ends"] and "EXPIRED" in facts["Card"]
    assert "grace period ends" in ticket["summary"]["headline"]
    assert ticket["summary"]["bot_told"] == ["Your card expired."]
    texts = " ".join(line["text"] for line in ticket["transcript"])
    assert "4242 4242" not in texts and "123" not in texts and "[card number removed]" in texts
    assert [d.kind for d in deliveries] == ["ticket.created"] and deliveries[0].payload["ticket"][
        "reference"
    ] == reference


def test_anonymous_visitors_get_a_ticket_without_account_data(database_url) -> None:
    with session_scope(engine_for(database_url)) as session:
        ticket, _ = open_ticket(session, _request("conv-anon", email=None, language="fr"), NOW)
        assert ticket.account_id is None and ticket.user_email is None and ticket.language == "fr"
        assert "Anonymous" in ticket.summary["headline"]
        assert not any(fact["label"] == "Plan" for fact in ticket.summary["facts"])


def test_asking_twice_gives_the_same_ticket_and_after_resolution_reopens_it(database_url) -> None:
    engine = engine_for(database_url)
    first, created = request_handoff(engine, _request("conv-2"), NOW)
    again, created_again = request_handoff(engine, _request("conv-2"), NOW + timedelta(minutes=1))
    assert created and not created_again and again == first
    with session_scope(engine) as session:
        close(session, first, "alice", "resolved", NOW)
    reopened, created = request_handoff(engine, _request("conv-2"), NOW + timedelta(minutes=5))
    assert reopened == first and created
    with session_scope(engine) as session:
        assert session.execute(select(func.count(m.Ticket.id))).scalar_one() == 1
        assert session.execute(select(m.Ticket.status)).scalar_one() == "open"


def test_concurrent_requests_for_one_conversation_make_one_ticket(database_url) -> None:
    engine = engine_for(database_url)
    references, errors = run_at_once(lambda _: request_handoff(engine, _request("conv-race"), NOW)[0], 8)
    assert not errors and len(set(references)) == 1 and len(references) == 8


def test_agent_steps_and_their_refusals(database_url) -> None:
    engine = engine_for(database_url)
    reference, _ = request_handoff(engine, _request("conv-3"), NOW)
    with session_scope(engine) as session:
        assert [row["reference"] for row in queue(session, "open", NOW)] == [reference]
        with pytest.raises(TicketError, match="empty"):
            record_reply(session, reference, "alice", "   ", NOW)
        with pytest.raises(TicketError, match="not_found"):
            assign(session, "HD-NOPE00", "alice", NOW)
        assign(session, reference, "alice", NOW)
        message = record_reply(session, reference, "alice", "Your card 4242424242424242 is fine", NOW)
        assert "4242424242424242" not in message.text
        close(session, reference, "alice", "resolved", NOW)
        with pytest.raises(TicketError, match="resolved"):
            record_reply(session, reference, "alice", "too late", NOW)
        assert queue(session, "active", NOW) == [] and queue(session, "resolved", NOW)[0]["assigned_to"] == "alice"


def test_the_queue_is_oldest_first(database_url) -> None:
    engine = engine_for(database_url)
    newer, _ = request_handoff(engine, _request("conv-new", email=None), NOW)
    older, _ = request_handoff(engine, _request("conv-old", email=None), NOW - timedelta(hours=2))
    with session_scope(engine) as session:
        rows = queue(session, "active", NOW)
    assert [row["reference"] for row in rows] == [older, newer] and rows[0]["waiting_minutes"] >= 120


def _event(event: str, **fields) -> dict:
    return {"event": event, **fields}


def test_reason_and_topic_come_from_the_conversation() -> None:
    events = [
        _event("user", parse_data={"intent": {"name": "telephony_refund"}}),
        _event("bot", metadata={"utter_action": "utter_telephony_balance"}),
        _event("user", parse_data={"intent": {"name": "human_handoff"}}),
    ]
    assert infer_reason(events) == "telephony_refund_review" and infer_topic(events) == "telephony_refund"
    assert infer_reason([_event("user", parse_data={"intent": {"name": "human_handoff"}})]) == "customer_request"
    assert infer_reason([_event("bot", metadata={"utter_action": "utter_offer_human"})]) == "not_understood"


def test_the_customer_is_told_when_people_answer() -> None:
    monday_morning = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)  # 10:30 in Paris
    sunday = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
    assert reply_expectation(monday_morning, "en")["open_now"]
    closed = reply_expectation(sunday, "fr")
    assert not closed["open_now"] and closed["next_opening"].startswith("lundi 23 novembre")
    assert "du lundi au vendredi" in closed["hours"]
    assert reply_expectation(sunday, "en")["hours"].startswith("Monday to Friday")


def test_control_characters_never_reach_a_ticket(database_url: str) -> None:
    """PostgreSQL refuses NUL in text: the transcript keeps what a person can read."""
    events = [{"event": "user", "timestamp": 1.0, "text": "annuler\x00\x07\x1b[31m abonnement\x08\tsvp"}]
    line = transcript(events)[0]
    assert line.text == "annuler[31m abonnement\tsvp"
    request = HandoffRequest("conv-control", "rest", "fr", None, "customer_request", None, [line])
    reference, created = request_handoff(engine_for(database_url), request, NOW)
    assert created and reference.startswith("HD-")
