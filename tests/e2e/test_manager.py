"""The manager's side over real HTTP: the role, the analytics API and its CSV, a privacy export and erasure of a
real conversation, and the satisfaction question pushed to a widget after its ticket is resolved."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.identity import issue_token
from tests.helpers.conversation import api, reference_in, texts
from tests.helpers.server import new_past_due_customer
from tests.helpers.socketio_client import ChatClient

MANAGER = ("manager", "manager-dev-password")


def test_only_managers_read_the_figures_and_their_csv(assistant) -> None:
    assert api(assistant, "GET", "/me").json() == {"agent": "agent", "manager": False}
    assert api(assistant, "GET", "/me", auth=MANAGER).json() == {"agent": "manager", "manager": True}
    assert api(assistant, "GET", "/analytics").status_code == 403
    assert api(assistant, "GET", "/privacy/export?email=a@b.example").status_code == 403
    assert api(assistant, "GET", "/analytics", auth=None).status_code == 401
    report = api(assistant, "GET", "/analytics", auth=MANAGER).json()
    assert report["summary"]["conversations"] >= 0 and "handoff_reasons" in report["tables"]
    csv = api(assistant, "GET", "/analytics.csv?table=channels", auth=MANAGER)
    assert csv.headers["content-type"].startswith("text/csv") and csv.text.splitlines()[0] == "channel,conversations"
    assert "attachment" in csv.headers["content-disposition"]
    assert api(assistant, "GET", "/analytics.csv?table=nope", auth=MANAGER).status_code == 404
    assert api(assistant, "GET", "/analytics?from=2030-02-01&to=2030-01-01", auth=MANAGER).status_code == 400


def test_a_customers_conversation_is_exported_then_erased(assistant) -> None:
    email = new_past_due_customer(f"sqlite:///{assistant.database}")
    sender = uuid.uuid4().hex
    meta = {"token": issue_token(email), "locale": "en-US"}
    assert texts(assistant.say("what is my subscription status?", sender, meta))
    exported = api(assistant, "GET", f"/privacy/export?email={email}", auth=MANAGER)
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    conversations = exported.json()["conversations"]
    assert list(conversations) == [assistant.rest(sender)]
    assert any(e.get("text") == "what is my subscription status?" for e in conversations[assistant.rest(sender)])
    erased = api(assistant, "POST", "/privacy/erase", auth=MANAGER, json={"email": email})
    assert erased.status_code == 200 and erased.json()["erased"]["conversations"] == 1
    assert api(assistant, "GET", f"/privacy/export?email={email}", auth=MANAGER).json()["conversations"] == {}
    assert not [e for e in assistant.tracker(assistant.rest(sender))["events"] if e["event"] == "user"]
    assert api(assistant, "POST", "/privacy/erase", auth=MANAGER, json={}).status_code == 400


def test_a_resolved_ticket_brings_the_satisfaction_question_to_the_widget(assistant) -> None:
    with ChatClient(assistant, {"locale": "fr-FR"}) as chat:
        reference = reference_in(chat.send("je veux parler à un conseiller"))
        api(assistant, "POST", f"/tickets/{reference}/reply", json={"text": "C'est réglé, bonne journée."})
        assert "réglé" in chat.receive()
        api(assistant, "POST", f"/tickets/{reference}/resolve")
        resumed, question = chat.receive_messages(2)
        assert reference in resumed["text"] and "De 1" in question["text"]
        assert [b["title"] for b in question["quick_replies"]] == ["1", "2", "3", "4", "5"]
        assert "commentaire" in chat.send(question["quick_replies"][4]["payload"])
        assert "Merci pour votre retour" in chat.send("Très rapide, merci Zoé !")
    with session_scope(engine_for(f"sqlite:///{assistant.database}")) as session:
        rating = session.execute(
            select(m.SatisfactionRating).where(m.SatisfactionRating.conversation_id == chat.session["session_id"])
        ).scalar_one()
        ticket = session.execute(select(m.Ticket).where(m.Ticket.reference == reference)).scalar_one()
        assert (rating.score, rating.trigger, rating.ticket_id, rating.language) == (5, "resolved", ticket.id, "fr")
        assert rating.comment == "Très rapide, merci [name] !" or rating.comment == "Très rapide, merci Zoé !"
