"""What Chatwoot (its real payloads) and the generic API send back, recorded in the ticket on SQLite and
PostgreSQL: a reply once per message id, found by Chatwoot's conversation id, resolution and hand-back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.handoff.desk import TicketError
from support.helpdesk.inbound import apply, from_chatwoot, from_generic
from support.helpdesk.transports import Chatwoot
from support.helpdesk.worker import deliver_due
from tests.db.test_helpdesk_outbox import START, _chatwoot_answers, _ticket
from tests.helpers.helpdesk_standin import chatwoot_event as _payload
from tests.helpers.loopback import Receiver


def _in_chatwoot(engine, conversation: str) -> str:
    """A ticket delivered to a Chatwoot stand-in, which names its conversation 42."""
    reference = _ticket(engine, conversation, START)
    receiver = Receiver()
    receiver.answer = _chatwoot_answers
    try:
        deliver_due(engine, Chatwoot(receiver.url, "cw-token", "3", "5"), START)
    finally:
        receiver.stop()
    return reference


def _transcript(engine, reference: str) -> list:
    with session_scope(engine) as session:
        ticket = session.execute(select(m.Ticket).where(m.Ticket.reference == reference)).scalar_one()
        return [(line.author, line.agent, line.text) for line in ticket.messages]


def test_an_agent_reply_from_chatwoot_is_recorded_once_and_resolving_gives_the_conversation_back(
    database_url, monkeypatch
) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "chatwoot")
    engine = engine_for(database_url)
    reference = _in_chatwoot(engine, "cw-1")
    with session_scope(engine) as session:
        assert session.execute(select(m.Ticket.helpdesk_conversation_id)).scalar_one() == "42"
    # Chatwoot's custom attribute may be stale or missing: the conversation id finds the ticket
    reply = from_chatwoot(_payload("message_created_outgoing", "", 42, content="Je m'en occupe."))
    for expected in ("reply", "duplicate", "duplicate"):  # the same message id delivered three times
        with session_scope(engine) as session:
            applied = apply(session, reply, START + timedelta(minutes=1))
        assert (applied.kind, applied.conversation_id, applied.reference) == (expected, "cw-1", reference)
    assert _transcript(engine, reference)[-1] == ("agent", "Julie Bernard", "Je m'en occupe.")
    assert [line[0] for line in _transcript(engine, reference)].count("agent") == 1
    resolved = from_chatwoot(_payload("conversation_status_changed_resolved", reference, 42))
    with session_scope(engine) as session:
        first = apply(session, resolved, START + timedelta(minutes=2))
    with session_scope(engine) as session:
        again = apply(session, resolved, START + timedelta(minutes=3))
        ticket = session.execute(select(m.Ticket)).scalar_one()
        assert (ticket.status, ticket.resolution, ticket.assigned_to) == ("resolved", "resolved", "Julie Bernard")
    assert (first.kind, first.repeated, again.repeated) == ("resolved", False, True)
    # a reply that Chatwoot's jobs deliver after the resolution still reaches the transcript
    late = from_chatwoot(_payload("message_created_outgoing", reference, 42, id=9010, content="Bonne journée !"))
    with session_scope(engine) as session:
        assert apply(session, late, START + timedelta(minutes=4)).kind == "reply"
    assert _transcript(engine, reference)[-1][2] == "Bonne journée !"


def test_a_conversation_id_that_belongs_to_another_ticket_finds_nothing(database_url, monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "chatwoot")
    engine = engine_for(database_url)
    reference = _in_chatwoot(engine, "cw-2")
    for event in (
        from_chatwoot(_payload("message_created_outgoing", reference, 77)),  # 42 is this ticket's
        from_chatwoot(_payload("conversation_status_changed_pending", "HD-NOPE", 77)),
    ):
        with pytest.raises(TicketError):
            with session_scope(engine) as session:
                apply(session, event, START)
    assert [line[0] for line in _transcript(engine, reference)].count("agent") == 0


def test_the_generic_api_replies_then_hands_back_by_reference(database_url, monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_MODE", "generic")
    engine = engine_for(database_url)
    reference = _ticket(engine, "gen-1", START)
    message = {"event": "message.created", "id": "evt-1", "ticket": {"reference": reference.lower()}}
    reply = from_generic({**message, "agent": "Zoé", "message": {"text": "Bonjour !"}})
    with session_scope(engine) as session:
        assert apply(session, reply, START).kind == "reply"
    with session_scope(engine) as session:
        assert apply(session, reply, START).kind == "duplicate"
    back = from_generic({"event": "ticket.handed_back", "id": "evt-2", "ticket": {"reference": reference}})
    with session_scope(engine) as session:
        assert apply(session, back, START).kind == "handed_back"
        assert session.execute(select(m.Ticket.resolution)).scalar_one() == "handed_back"
    assert _transcript(engine, reference)[-2] == ("agent", "Zoé", "Bonjour !")
