"""A helpdesk answering back, over real HTTP to the running servers: a stand-in posts Chatwoot's real webhook
payloads (signed as Chatwoot v4.11+ signs them) and the generic API's signed JSON. An agent's reply reaches a
widget in real time, once; resolving or setting back to pending resumes the bot in the customer's language."""

from __future__ import annotations

import random
import time
import uuid

from support.identity import issue_token
from tests.helpers.conversation import reference_in, texts, ticket
from tests.helpers.helpdesk_standin import chatwoot_event, post_chatwoot, post_generic
from tests.helpers.socketio_client import ChatClient


def test_a_chatwoot_agent_answers_a_widget_customer_then_hands_back(assistant) -> None:
    conversation = random.randint(10_000, 99_999)  # Chatwoot's number for it (generic outbound mode: unbound)
    with ChatClient(assistant, {"locale": "en-US"}) as chat:
        reference = reference_in(chat.send("can I talk to a real person please?"))
        reply = chatwoot_event("message_created_outgoing", reference, conversation, content="Hi, Julie here!")
        answer = post_chatwoot(assistant, reply)
        assert answer.status_code == 200 and answer.json() == {
            "result": "reply",
            "ticket": reference,
            "delivered": True,
        }
        assert "Julie here" in chat.receive()
        # Chatwoot posts the same message again (a retry, a second webhook): the customer reads it once
        assert post_chatwoot(assistant, reply).json()["result"] == "duplicate"
        # a private note and a customer message echoed by Chatwoot are not sent to anyone
        for name in ("message_created_private", "message_created_incoming"):
            assert post_chatwoot(assistant, chatwoot_event(name, reference, conversation)).json()["result"] == "ignored"
        assert post_chatwoot(
            assistant, chatwoot_event("conversation_status_changed_pending", reference, conversation)
        ).json() == {
            "result": "handed_back",
            "ticket": reference,
            "resumed": True,
        }
        assert "handed you back" in chat.receive()
        assert "cancel" in chat.send("how do I cancel my subscription?").lower()  # the bot answers again
        found = ticket(assistant, reference)
        assert found["status"] == "resolved" and found["resolution"] == "handed_back"
        assert [line["text"] for line in found["transcript"] if line["author"] == "agent"] == ["Hi, Julie here!"]


def test_a_generic_helpdesk_replies_and_resolves_a_french_conversation(assistant) -> None:
    sender = uuid.uuid4().hex
    meta = {"token": issue_token("admin@acme.example"), "locale": "fr-FR"}
    reference = reference_in(texts(assistant.say("je voudrais parler à un conseiller", sender, meta)))
    message = {
        "event": "message.created",
        "id": f"evt-{sender}",
        "ticket": {"reference": reference},
        "agent": "Zoé",
        "message": {"text": "Bonjour, c'est Zoé : je regarde votre paiement."},
    }
    assert post_generic(assistant, message, secret="wrong").status_code == 401
    answer = post_generic(assistant, message)
    assert answer.status_code == 200 and answer.json()["delivered"] is False  # REST cannot push: kept in the tracker
    assert post_generic(assistant, message).json()["result"] == "duplicate"
    events = assistant.tracker(assistant.rest(sender))["events"]
    agent_lines = [e["text"] for e in events if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")]
    assert agent_lines == [message["message"]["text"]]
    done = post_generic(assistant, {"event": "ticket.resolved", "id": "r", "ticket": {"reference": reference}})
    assert done.json() == {"result": "resolved", "ticket": reference, "resumed": True}
    last = [e for e in assistant.tracker(assistant.rest(sender))["events"] if e["event"] == "bot"][-1]["text"]
    assert f"clôturé votre demande {reference}" in last
    assert "résili" in texts(assistant.say("comment résilier mon abonnement ?", sender, meta))


def test_the_inbound_routes_refuse_wrong_secrets_old_signatures_and_unknown_tickets(assistant) -> None:
    reply = chatwoot_event("message_created_outgoing", "HD-ZZZZZZ", 1)
    assert post_chatwoot(assistant, reply, token="wrong").status_code == 401
    assert post_chatwoot(assistant, reply, secret="wrong").status_code == 401
    assert post_chatwoot(assistant, reply, stamp=int(time.time()) - 3600).status_code == 401  # a replay
    assert post_chatwoot(assistant, reply).status_code == 404  # signed, but no such ticket
    assert (
        post_generic(assistant, {"event": "ticket.resolved", "ticket": {"reference": "HD-ZZZZZZ"}}).status_code == 404
    )
    bad = post_generic(assistant, {"event": "message.created"})  # no id, no text
    assert bad.status_code == 200 and bad.json()["result"] == "ignored"
