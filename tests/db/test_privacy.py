"""Privacy requests and the retention period on real SQLite and PostgreSQL: one customer's data exported as
one JSON file, then erased (conversations deleted from Rasa's store, tickets, emails, links, audit entries and
ratings anonymised), with an audit entry that names the manager and keeps no personal data; and old data
deleted or anonymised by the retention run, recent data untouched."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, insert, select

from support.billing.subscription_changes import schedule_end
from support.db import models as m
from support.db.conversation_store import EVENTS, METADATA, conversation_events, store_engine
from support.db.engine import engine_for, session_scope
from support.handoff.tickets import request_handoff
from support.handoff.transcript import HandoffRequest, Line
from support.identity import IDENTITY
from support.messenger_links import issue_code, redeem_code
from support.privacy import ERASED, PrivacyRequestError, erase_customer, export_customer
from support.retention import apply_retention

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)
GRACE = "admin@globex.example"


def _event(sender: str, at: datetime, text: str, email: str | None = None) -> dict:
    metadata = {IDENTITY: {"email": email, "until": 1, "signature": "x"}} if email else {}
    data = {"event": "user", "timestamp": at.timestamp(), "text": text, "metadata": metadata}
    return {"sender_id": sender, "type_name": "user", "timestamp": at.timestamp(), "data": json.dumps(data)}


def _customer_data(url: str) -> None:
    store = store_engine(url)
    METADATA.create_all(store)
    with store.begin() as connection:
        connection.execute(delete(EVENTS))
        connection.execute(
            insert(EVENTS),
            [
                _event("web-grace", NOW, "how do I cancel?", GRACE),
                _event("web-grace", NOW, "my card is 5454"),
                _event("telegram-77", NOW, "status please", GRACE),
                _event("anon-1", NOW, "I'm just visiting"),
            ],
        )
    engine = engine_for(url)
    with session_scope(engine) as session:
        schedule_end(session, GRACE, "cancel", "web-grace", "en", NOW)  # an audit entry and an email
        code = issue_code(session, GRACE, NOW).code
        assert redeem_code(session, "telegram", "77", code, NOW).status == "linked"
        session.add(
            m.SatisfactionRating(
                conversation_id="web-grace",
                channel="socketio",
                language="en",
                trigger="bot_end",
                score=4,
                comment="call me on 0612345678",
                answered_at=NOW,
            )
        )
    line = Line("user:1", NOW, "customer", "I want a person, I'm Grace Hopper")
    request_handoff(engine, HandoffRequest("web-grace", "socketio", "en", GRACE, "customer_request", None, [line]), NOW)
    request_handoff(
        engine,
        HandoffRequest(
            "anon-1", "socketio", "en", None, "customer_request", None, [Line("user:2", NOW, "customer", "hi")]
        ),
        NOW,
    )


def test_a_customers_data_is_exported_then_erased_with_an_audit_entry_without_personal_data(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "off")
    _customer_data(database_url)
    bind, store = engine_for(database_url), store_engine(database_url)
    exported = export_customer(bind, store, NOW, email="Admin@Globex.example ")
    assert sorted(exported["conversations"]) == ["telegram-77", "web-grace"]  # not the anonymous visitor's
    assert [e["text"] for e in exported["conversations"]["web-grace"]] == ["how do I cancel?", "my card is 5454"]
    (ticket,) = exported["tickets"]
    assert ticket["user_email"] == GRACE and "Grace Hopper" in ticket["transcript"][0]["text"]
    assert [link["platform_user_id"] for link in exported["messenger_links"]] == ["77"]
    assert [email["template"] for email in exported["emails"]] == ["cancel_confirmation"]
    assert sorted(entry["action"] for entry in exported["audit_entries"]) == [
        "handoff_requested",
        "messenger.linked",
        "subscription.cancel",
    ]
    assert exported["satisfaction"][0]["comment"] == "call me on 0612345678"
    json.dumps(exported, default=str)  # one JSON file

    done = erase_customer(bind, store, "manager", NOW + timedelta(minutes=5), email=GRACE)
    assert done == {
        "conversations": 2,
        "events": 3,
        "tickets": 1,
        "transcript_lines": 1,
        "emails": 1,
        "links": 1,
        "audit_entries": 3,
        "ratings": 1,
    }
    assert export_customer(bind, store, NOW, email=GRACE)["conversations"] == {}
    assert list(conversation_events(store, ["anon-1"])["anon-1"])  # another customer's conversation stays
    with session_scope(bind) as session:
        tickets = session.execute(select(m.Ticket).order_by(m.Ticket.id)).scalars().all()
        assert tickets[0].user_email is None and [line.text for line in tickets[0].messages] == [ERASED]
        assert tickets[1].conversation_id == "anon-1" and tickets[1].messages[0].text == "hi"
        assert session.execute(select(m.MessengerLink)).scalars().all() == []
        assert session.execute(select(m.OutboxEmail.to_email)).scalar_one() == "erased@invalid"
        rating = session.execute(select(m.SatisfactionRating)).scalar_one()
        assert rating.comment is None and rating.score == 4  # the figure stays
        entries = (
            session.execute(
                select(m.AuditLog).where(
                    m.AuditLog.action != "handoff_requested", m.AuditLog.actor_email != "anonymous"
                )
            )
            .scalars()
            .all()
        )
        entries = [e for e in entries if e.conversation_id != "anon-1"]
        assert {e.actor_email for e in entries[:-1]} == {ERASED} and len(entries) == 3
        assert (entries[-1].actor_email, entries[-1].action) == ("manager", "privacy.erased")
        record = json.dumps([(e.actor_email, e.details, e.conversation_id) for e in entries], default=str).lower()
        assert "globex" not in record and "grace" not in record and entries[-1].details == done


def test_an_anonymous_conversation_is_erased_by_its_id_and_a_request_needs_one_subject(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "off")
    _customer_data(database_url)
    bind, store = engine_for(database_url), store_engine(database_url)
    assert [t["conversation_id"] for t in export_customer(bind, store, NOW, conversation="anon-1")["tickets"]] == [
        "anon-1"
    ]
    done = erase_customer(bind, store, "manager", NOW, conversation="anon-1")
    assert (done["conversations"], done["events"], done["tickets"], done["emails"]) == (1, 1, 1, 0)
    assert conversation_events(store, ["web-grace"])["web-grace"]  # the signed-in customer's stays
    for who in ({}, {"email": GRACE, "conversation": "anon-1"}, {"email": "not-an-email"}):
        with pytest.raises(PrivacyRequestError):
            erase_customer(bind, store, "manager", NOW, **who)


def test_the_retention_period_removes_what_is_older_and_keeps_the_rest(database_url, monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "off")
    _customer_data(database_url)  # everything at NOW
    bind, store = engine_for(database_url), store_engine(database_url)
    with store.begin() as connection:
        connection.execute(insert(EVENTS), [{**_event("web-old", NOW - timedelta(days=400), "old question")}])
    with session_scope(bind) as session:
        ticket = session.execute(select(m.Ticket).where(m.Ticket.conversation_id == "web-grace")).scalar_one()
        ticket.status, ticket.resolution, ticket.resolved_at = "resolved", "resolved", NOW
        email = session.execute(select(m.OutboxEmail)).scalar_one()
        email.sent_at = NOW
    later = NOW + timedelta(days=366)
    first = apply_retention(bind, store, NOW, days=365)  # only the 400-day-old conversation is older
    assert first == {"events": 1, "tickets": 0, "emails": 0, "helpdesk_deliveries": 0, "comments": 0}
    done = apply_retention(bind, store, later, days=365)
    assert (done["events"], done["tickets"], done["emails"], done["comments"]) == (4, 1, 1, 1)
    assert apply_retention(bind, store, later, days=365) == {
        "events": 0,
        "tickets": 0,
        "emails": 0,
        "helpdesk_deliveries": 0,
        "comments": 0,
    }  # a second run finds nothing more
    with session_scope(bind) as session:
        anonymous = session.execute(select(m.Ticket).where(m.Ticket.conversation_id == "anon-1")).scalar_one()
        assert anonymous.messages[0].text == "hi"  # still open: a person may be working on it
        assert session.execute(select(m.SatisfactionRating.score)).scalar_one() == 4
