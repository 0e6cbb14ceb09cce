"""The helpdesk outbox against a loopback helpdesk that fails: nothing lost, nothing duplicated, in order."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from sqlalchemy import select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.handoff.tickets import add_customer_message, request_handoff
from support.handoff.transcript import HandoffRequest, Line
from support.helpdesk.outbox import pending_count
from support.helpdesk.transports import Chatwoot, GenericWebhook
from support.helpdesk.worker import LEASE_SECONDS, _claim, deliver_due
from tests.helpers.concurrency import run_at_once
from tests.helpers.loopback import Receiver

START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
SECRET = "outbox-secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A loopback helpdesk of this test's own."""
    found = Receiver()
    yield found
    found.stop()


def _ticket(engine, conversation: str, now: datetime) -> str:
    request = HandoffRequest(
        conversation,
        "socketio",
        "en",
        "admin@acme.example",
        "customer_request",
        "renewal_failed",
        [Line("user:1", now, "customer", "why did my renewal fail?")],
    )
    return request_handoff(engine, request, now)[0]


def _customer_writes(engine, conversation: str, text: str, timestamp: float, now: datetime) -> None:
    with session_scope(engine) as session:
        assert add_customer_message(session, conversation, {"event": "user", "text": text, "timestamp": timestamp}, now)


def _run_for(engine, transport, start: datetime, minutes: int, step_seconds: int = 30) -> datetime:
    """Runs the worker every `step_seconds` of simulated time."""
    now = start
    while now < start + timedelta(minutes=minutes):
        deliver_due(engine, transport, now)
        now += timedelta(seconds=step_seconds)
    return now


def test_a_helpdesk_down_for_an_hour_gets_everything_once_and_in_order(database_url, monkeypatch, receiver) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    engine = engine_for(database_url)
    receiver.fail_next = 10**6  # down
    reference = _ticket(engine, "hd-1", START)
    _customer_writes(engine, "hd-1", "are you there?", 2.0, START + timedelta(minutes=1))
    _customer_writes(engine, "hd-1", "my card is 4242 4242 4242 4242", 3.0, START + timedelta(minutes=2))
    transport = GenericWebhook(f"{receiver.url}/hook", SECRET)
    now = _run_for(engine, transport, START, minutes=60)
    failed_tries = len(receiver.calls)
    assert receiver.accepted() == [] and pending_count(engine) == 3
    assert 6 <= failed_tries <= 40, failed_tries  # backoff: far fewer tries than worker passes (120)
    receiver.fail_next = 0  # back up
    _run_for(engine, transport, now, minutes=15)
    accepted = receiver.accepted()
    keys = [call.headers["Idempotency-Key"] for call in accepted]
    assert keys == [f"{reference}-created-1", f"{reference}-message-2", f"{reference}-message-3"]
    assert [call.json["event"] for call in accepted] == ["ticket.created", "message.created", "message.created"]
    assert accepted[0].json["ticket"]["summary"]["headline"] and "4242 4242" not in accepted[2].body.decode()
    for call in accepted:
        expected = "sha256=" + hmac.new(SECRET.encode(), call.body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(call.headers["X-Helpdesk-Signature-256"], expected)
    assert pending_count(engine) == 0
    _run_for(engine, transport, now + timedelta(minutes=15), minutes=10)
    assert len(receiver.accepted()) == 3  # nothing is sent twice


def test_a_failing_first_n_times_helpdesk_gets_one_delivery(database_url, monkeypatch, receiver) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    engine = engine_for(database_url)
    receiver.fail_next = 4
    reference = _ticket(engine, "hd-2", START)
    _run_for(engine, GenericWebhook(f"{receiver.url}/hook"), START, minutes=10, step_seconds=5)
    assert len(receiver.calls) == 5 and [c.status for c in receiver.calls] == [503] * 4 + [200]
    assert {c.headers["Idempotency-Key"] for c in receiver.calls} == {f"{reference}-created-1"}
    with session_scope(engine) as session:
        row = session.execute(select(m.HelpdeskDelivery)).scalar_one()
        assert row.attempts == 5 and row.delivered_at is not None and row.last_error is None


def _chatwoot_answers(path: str, body) -> dict:
    if path.endswith("/contacts"):
        return {"payload": {"contact": {"id": 7}, "contact_inbox": {"source_id": "src-7"}}}
    if path.endswith("/conversations"):
        return {"id": 42}
    return {"id": 1}


def test_chatwoot_mode_opens_one_conversation_and_resumes_after_failures(database_url, monkeypatch, receiver) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "chatwoot")
    engine = engine_for(database_url)
    receiver.answer = _chatwoot_answers
    reference = _ticket(engine, "hd-3", START)
    _customer_writes(engine, "hd-3", "hello?", 2.0, START)
    transport = Chatwoot(receiver.url, "cw-token", "3", "5")
    receiver.fail_path = {"/messages": 2}  # contact and conversation created, then the note fails twice
    _run_for(engine, transport, START, minutes=5, step_seconds=5)
    assert [call.status for call in receiver.calls].count(503) == 2
    paths = [call.path for call in receiver.accepted()]
    assert paths == [
        "/api/v1/accounts/3/contacts",
        "/api/v1/accounts/3/conversations",
        "/api/v1/accounts/3/conversations/42/messages",
        "/api/v1/accounts/3/conversations/42/toggle_status",
        "/api/v1/accounts/3/conversations/42/messages",
    ]
    calls = receiver.accepted()
    assert calls[0].headers["api_access_token"] == "cw-token"
    assert calls[1].json["status"] == "pending" and calls[1].json["custom_attributes"]["reference"] == reference
    assert calls[2].json["private"] is True and reference in calls[2].json["content"]
    assert calls[3].json == {"status": "open"}
    assert calls[4].json == {"content": "hello?", "message_type": "incoming", "private": False}


def test_chatwoot_reuses_a_customer_who_is_already_a_contact(database_url, monkeypatch, receiver) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "chatwoot")
    engine = engine_for(database_url)
    contacts_created = []

    def answers(path: str, body):
        if path.endswith("/contacts"):
            contacts_created.append(body)
            if len(contacts_created) > 1:  # Chatwoot: email and identifier are unique per account
                return 422, {"message": "Email has already been taken"}
        if "/contacts/search" in path:
            return {"payload": [{"id": 7, "email": "admin@acme.example", "identifier": "admin@acme.example"}]}
        if path.endswith("/contact_inboxes"):
            return {"source_id": "src-7-again"}
        return _chatwoot_answers(path, body)

    receiver.answer = answers
    _ticket(engine, "hd-first", START)
    _ticket(engine, "hd-second", START)  # the same customer, another conversation
    _run_for(engine, Chatwoot(receiver.url, "cw-token", "3", "5"), START, minutes=2, step_seconds=5)
    conversations = [
        c.json for c in receiver.accepted("/api/v1/accounts/3/conversations") if c.path.endswith("/conversations")
    ]
    assert [c["source_id"] for c in conversations] == ["src-7", "src-7-again"]
    assert all(c["contact_id"] == 7 for c in conversations) and pending_count(engine) == 0


def test_the_workers_of_four_replicas_at_once_deliver_each_row_once_and_in_order(
    database_url, monkeypatch, receiver
) -> None:
    """Every replica runs a worker: the row lock and the lease give each row to one of them."""
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    engine = engine_for(database_url)
    references = [_ticket(engine, f"hd-many-{n}", START) for n in range(5)]
    for n in range(5):
        _customer_writes(engine, f"hd-many-{n}", "still there?", 2.0, START + timedelta(minutes=1))
    transport = GenericWebhook(f"{receiver.url}/hook", SECRET)
    for step in range(3):  # the four workers pass together, three times
        now = START + timedelta(minutes=2 + step)
        _, errors = run_at_once(lambda _, now=now: deliver_due(engine, transport, now), 4)
        assert not errors, errors
    keys = [call.headers["Idempotency-Key"] for call in receiver.accepted()]
    assert len(keys) == len(set(keys)) == 10  # a ticket and a message per conversation, each once
    for reference in references:
        mine = [key for key in keys if key.startswith(f"{reference}-")]
        assert len(mine) == 2 and mine[0] == f"{reference}-created-1" and "-message-" in mine[1]  # in order


def test_a_row_leased_by_a_worker_that_died_is_delivered_by_another_after_the_lease(
    database_url, monkeypatch, receiver
) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    engine = engine_for(database_url)
    reference = _ticket(engine, "hd-dead", START)
    assert len(_claim(engine, START, 50)) == 1  # leased by a replica killed before it delivered
    transport = GenericWebhook(f"{receiver.url}/hook", SECRET)
    deliver_due(engine, transport, START + timedelta(seconds=LEASE_SECONDS - 5))
    assert receiver.accepted() == []  # still leased
    deliver_due(engine, transport, START + timedelta(seconds=LEASE_SECONDS + 1))
    assert [call.headers["Idempotency-Key"] for call in receiver.accepted()] == [f"{reference}-created-1"]
