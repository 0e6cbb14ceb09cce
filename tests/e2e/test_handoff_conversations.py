"""Human handoff end to end, against the running servers: escalate, paused bot, agent reply, resume."""

from __future__ import annotations

import uuid
from typing import List

import pytest
import requests

from support.identity import issue_token
from tests.helpers.conversation import api, eventually, reference_in, texts, ticket
from tests.helpers.socketio_client import ChatClient


def test_french_customer_is_handed_over_and_the_bot_resumes(assistant, helpdesk) -> None:
    sender = uuid.uuid4().hex
    meta = {"token": issue_token("admin@acme.example"), "locale": "fr-FR"}
    assistant.say("pourquoi mon renouvellement a échoué ?", sender, meta)
    helpdesk.fail_next = 2  # the helpdesk is down for the first two deliveries
    answer = texts(assistant.say("je voudrais parler à un conseiller", sender, meta))
    reference = reference_in(answer)
    assert "transmis" in answer and "équipe" in answer

    # while a person owns the conversation the bot is silent, and what the customer writes reaches the ticket
    assert assistant.say("ma carte : 4970 1012 3456 7895, cryptogramme 987", sender, meta) == []
    assert assistant.say("je veux parler à un humain", sender, meta) == []
    eventually(
        lambda: len([line for line in ticket(assistant, reference)["transcript"] if line["author"] == "customer"]) >= 4
    )
    found = ticket(assistant, reference)
    assert found["language"] == "fr" and found["status"] == "open" and found["user"] == "admin@acme.example"
    facts = {fact["label"]: fact["value"] for fact in found["summary"]["facts"]}
    assert "Professional" in facts["Plan"] and "card expired" in facts["Last failure"] and facts["Grace period ends"]
    assert any("4242" in told for told in found["summary"]["bot_told"])  # what the bot already said
    transcript = " ".join(line["text"] for line in found["transcript"])
    assert "[card number removed]" in transcript and "4970" not in transcript and "987" not in transcript
    assert [t["reference"] for t in api(assistant, "GET", "/tickets").json()["tickets"]].count(reference) == 1

    # the agent answers: the reply lands in the conversation (REST cannot push, so it is not "delivered")
    reply = api(assistant, "POST", f"/tickets/{reference}/reply", json={"text": "Bonjour, je m'en occupe."})
    assert reply.status_code == 200 and reply.json()["delivered"] is False
    agent_events = [
        e
        for e in assistant.tracker(assistant.rest(sender))["events"]
        if e["event"] == "bot" and (e.get("metadata") or {}).get("agent") == "agent"
    ]
    assert [e["text"] for e in agent_events] == ["Bonjour, je m'en occupe."]

    assert api(assistant, "POST", f"/tickets/{reference}/resolve").json()["ticket"]["status"] == "resolved"
    events = assistant.tracker(assistant.rest(sender))["events"]
    assert any(e["event"] == "resume" for e in events)
    assert f"clôturé votre demande {reference}" in [e for e in events if e["event"] == "bot"][-1]["text"]
    assert "résili" in texts(assistant.say("comment résilier mon abonnement ?", sender, meta))  # the bot is back
    again = texts(assistant.say("je veux parler à quelqu'un", sender, meta))
    assert reference_in(again) == reference  # one ticket per conversation: reopened, not duplicated

    # the outside helpdesk got the ticket and the later customer messages, once each, despite two failures
    def delivered(kind: str) -> List[str]:
        return [
            c.headers["Idempotency-Key"]
            for c in helpdesk.accepted()
            if c.json["event"] == kind and c.json["ticket"]["reference"] == reference
        ]

    eventually(lambda: len(delivered("message.created")) >= 2 and delivered("ticket.reopened"), seconds=30)
    assert delivered("ticket.created") == [f"{reference}-created-1"]
    assert len(set(delivered("message.created"))) == len(delivered("message.created"))
    assert api(assistant, "POST", f"/tickets/{reference}/resolve").status_code == 200


def test_english_socketio_customer_gets_the_agent_reply_in_real_time(assistant) -> None:
    with ChatClient(assistant, {"locale": "en-US"}) as chat:
        answer = chat.send("I'd like to talk to a human please")
        reference = reference_in(answer)
        assert "support team" in answer
        assert chat.send("hello? anyone there?") == ""  # paused: no bot answer
        found = ticket(assistant, reference)
        assert found["language"] == "en" and found["channel"] == "socketio" and found["user"] is None
        assert api(assistant, "POST", f"/tickets/{reference}/assign").json()["ticket"]["assigned_to"] == "agent"
        reply = api(assistant, "POST", f"/tickets/{reference}/reply", json={"text": "Hi, Sam here. How can I help?"})
        assert reply.json()["delivered"] is True
        assert "Sam here" in chat.receive()
        api(assistant, "POST", f"/tickets/{reference}/handback")
        assert "handed you back" in chat.receive()
        assert "cancel" in chat.send("how do I cancel my subscription?").lower()


def test_two_misunderstandings_then_yes_opens_a_ticket(assistant) -> None:
    sender = uuid.uuid4().hex
    assistant.say("/out_of_scope", sender, {"locale": "en-US"})
    offer = texts(assistant.say("/out_of_scope", sender, {"locale": "en-US"}))
    assert "someone from our support team" in offer
    reference = reference_in(texts(assistant.say("/affirm", sender, {"locale": "en-US"})))
    assert ticket(assistant, reference)["reason"] == "not_understood"
    api(assistant, "POST", f"/tickets/{reference}/resolve")


def test_a_telephony_refund_review_is_handed_over_with_its_reason(assistant) -> None:
    sender = uuid.uuid4().hex
    meta = {"token": issue_token("admin@globex.example"), "locale": "en-US"}
    assert "35.00" in texts(assistant.say("can I get my telephony credit refunded?", sender, meta))
    reference = reference_in(texts(assistant.say("/human_handoff", sender, meta)))
    found = ticket(assistant, reference)
    assert found["reason"] == "telephony_refund_review" and found["account"] == "globex.bitrix24.com"
    assert any(f["label"] == "Telephony credit" and "35.00" in f["value"] for f in found["summary"]["facts"])
    api(assistant, "POST", f"/tickets/{reference}/resolve")


@pytest.mark.parametrize("auth", [None, ("agent", "wrong"), ("admin@acme.example", "agent-dev-password"), ("", "")])
def test_the_agent_api_refuses_missing_or_wrong_credentials(assistant, auth) -> None:
    for method, path in [("GET", "/tickets"), ("GET", "/me"), ("POST", "/tickets/HD-AAAAAA/resolve")]:
        assert api(assistant, method, path, auth=auth).status_code == 401


def test_a_customer_can_never_read_a_ticket(assistant) -> None:
    sender = uuid.uuid4().hex
    token = issue_token("admin@acme.example")
    reference = reference_in(texts(assistant.say("I want to speak to a person", sender, {"token": token})))
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ["/tickets", f"/tickets/{reference}"]:
        assert requests.get(f"{assistant.url}/agent/api{path}", headers=bearer, timeout=30).status_code == 401
    other = texts(
        assistant.say(f"show me ticket {reference}", uuid.uuid4().hex, {"token": issue_token("admin@globex.example")})
    )
    assert other and "acme" not in other and "4242" not in other and reference not in other
    api(assistant, "POST", f"/tickets/{reference}/resolve")


def test_a_paused_conversation_stays_paused_after_a_restart(tmp_path) -> None:
    """Conversations live in a SQL tracker store on the run's database: a restart keeps the pause."""
    from tests.helpers.server import prepare_database, start_assistant

    url = f"sqlite:///{tmp_path / 'restart.db'}"
    prepare_database(url)
    sender = uuid.uuid4().hex
    meta = {"token": issue_token("admin@hooli.example"), "locale": "en-US"}
    first = start_assistant(15008, 15058, url, extra_env={"HELPDESK_MODE": "off"})
    server = next(first)
    try:
        reference = reference_in(texts(server.say("I need to speak with a person", sender, meta)))
    finally:
        first.close()  # stops both servers
    second = start_assistant(15008, 15058, url, extra_env={"HELPDESK_MODE": "off"})
    server = next(second)
    try:
        assert server.say("hello? still there?", sender, meta) == []  # still with a person
        eventually(
            lambda: any(line["text"] == "hello? still there?" for line in ticket(server, reference)["transcript"])
        )
        api(server, "POST", f"/tickets/{reference}/resolve")
        assert "licence" in texts(server.say("what plan am I on?", sender, meta))  # the bot answers again
    finally:
        second.close()
