"""A known set of conversations for the analytics tests (db and browser): Rasa's conversation store rows shaped
as Rasa 3.6 writes them, a ticket with an agent's reply and resolution, ratings, payment retries, emails, all on
7-8 January 2030 so that no other test's data falls in the range."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import delete, insert, select

from support.analytics import DateRange
from support.db import models as m
from support.db.conversation_store import EVENTS, METADATA, store_engine
from support.db.engine import engine_for, session_scope
from support.db.queries import queue_email
from support.vocabulary import AttemptOutcome, TriggeredBy

DAY = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)
SPAN = DateRange(date(2030, 1, 7), date(2030, 1, 8))


def _user(sender: str, at: datetime, text: str, intent: str, channel: str) -> dict:
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    data = {"event": "user", "timestamp": at.timestamp(), "text": text, "parse_data": parse, "input_channel": channel}
    return {"sender_id": sender, "type_name": "user", "timestamp": at.timestamp(), "intent_name": intent, "data": data}


def _slot(sender: str, at: datetime, name: str, value: str) -> dict:
    data = {"event": "slot", "timestamp": at.timestamp(), "name": name, "value": value}
    return {"sender_id": sender, "type_name": "slot", "timestamp": at.timestamp(), "data": data}


def fill_conversations(url: str) -> None:
    store = store_engine(url)
    METADATA.create_all(store)
    rows = [
        _slot("web-a", DAY, "language", "fr"),
        _user("web-a", DAY, "comment résilier ?", "cancel_subscription", "socketio"),
        _user(
            "web-a",
            DAY + timedelta(minutes=1),
            "Je suis Jean Dupont, rappelez le 06 12 34 56 78",
            "nlu_fallback",
            "socketio",
        ),
        _slot("rest-b", DAY, "language", "en"),
        _user("rest-b", DAY, "why did my renewal fail", "renewal_failed", "rest"),
        _user("rest-b", DAY + timedelta(days=1), "a human please", "human_handoff", "rest"),
        _user("telegram-c", DAY + timedelta(days=1), "what's the weather", "out_of_scope", "telegram"),
        _user("telegram-c", DAY + timedelta(days=1, minutes=1), "hello", "greet", "telegram"),
        _user("web-old", DAY - timedelta(days=3), "how do I cancel", "cancel_subscription", "socketio"),  # before
    ]
    with store.begin() as connection:
        connection.execute(delete(EVENTS).where(EVENTS.c.sender_id.in_({row["sender_id"] for row in rows})))
        connection.execute(insert(EVENTS), [{**row, "data": json.dumps(row["data"])} for row in rows])


def fill_tables(url: str) -> None:
    with session_scope(engine_for(url)) as session:
        acme = session.execute(select(m.User).where(m.User.email == "admin@acme.example")).scalar_one()
        ticket = m.Ticket(
            reference="HD-AN0001",
            conversation_id="rest-b",
            channel="rest",
            account_id=acme.account_id,
            language="en",
            reason="customer_request",
            summary={},
            status="resolved",
            resolution="resolved",
            created_at=DAY + timedelta(days=1),
            updated_at=DAY + timedelta(days=1, minutes=90),
            resolved_at=DAY + timedelta(days=1, minutes=90),
        )
        session.add(ticket)
        session.flush()
        session.add(
            m.TicketMessage(
                ticket_id=ticket.id, at=DAY + timedelta(days=1, minutes=12), author="agent", agent="zoe", text="hi"
            )
        )
        for score, trigger in ((5, "bot_end"), (3, "resolved")):
            session.add(
                m.SatisfactionRating(
                    conversation_id="web-a",
                    channel="socketio",
                    language="fr",
                    trigger=trigger,
                    score=score,
                    answered_at=DAY,
                )
            )
        invoice = session.execute(select(m.Invoice).where(m.Invoice.account_id == acme.account_id)).scalars().first()
        for by, outcome in (
            (TriggeredBy.BOT, AttemptOutcome.SUCCEEDED),
            (TriggeredBy.BOT, AttemptOutcome.FAILED),
            (TriggeredBy.DUNNING, AttemptOutcome.FAILED),
        ):
            session.add(
                m.PaymentAttempt(
                    invoice_id=invoice.id,
                    attempted_at=DAY,
                    amount_minor=100,
                    currency="EUR",
                    outcome=outcome,
                    triggered_by=by,
                    failure_reason="insufficient_funds" if outcome == AttemptOutcome.FAILED else None,
                )
            )
        for key in ("a", "b", "c"):
            queue_email(session, acme.account_id, acme.email, "payment_receipt", "fr", {}, f"an-{key}", DAY)
        session.flush()
        emails = (
            session.execute(
                select(m.OutboxEmail).where(m.OutboxEmail.idempotency_key.like("an-%")).order_by(m.OutboxEmail.id)
            )
            .scalars()
            .all()
        )
        emails[0].sent_at, emails[1].failed_at = DAY, DAY
