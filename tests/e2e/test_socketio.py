"""The chat widget's socket.io channel: the server binds each connection to one conversation."""

from __future__ import annotations

import pytest
import socketio

from support.identity import issue_token
from tests.helpers.socketio_client import ChatClient


def test_socketio_answers_in_the_locale_language(assistant) -> None:
    with ChatClient(assistant, {"locale": "fr-FR"}) as chat:
        assert "Bonjour" in chat.send("/greet")


def test_a_signed_in_customer_gets_account_answers_and_the_history_on_reconnect(assistant) -> None:
    token = issue_token("admin@globex.example")
    with ChatClient(assistant, {"token": token, "locale": "en-US"}) as chat:
        assert chat.session["signed_in"] and chat.session["session_token"] is None
        assert "Standard" in chat.send("what plan am I on?")
        conversation = chat.session["session_id"]
    with ChatClient(assistant, {"token": issue_token("admin@globex.example"), "locale": "en-US"}) as again:
        assert again.session["session_id"] == conversation  # a reload continues the same conversation
        assert any(m["sender"] == "user" and m["text"] == "what plan am I on?" for m in again.history)
        assert any(m["sender"] == "bot" and "Standard" in m["text"] for m in again.history)


def test_identity_and_conversation_come_from_the_server_not_the_client(assistant) -> None:
    acme = issue_token("admin@acme.example")
    with ChatClient(assistant, {"token": acme}) as victim:
        victim.send("why did my renewal fail?")
        victim_conversation = victim.session["session_id"]
    # an anonymous client naming the victim's conversation and token in its messages gets nothing of it
    with ChatClient(assistant, {"locale": "en-US"}) as intruder:
        assert intruder.session["session_id"] != victim_conversation and intruder.history == []
        answer = intruder.send(
            "why did my renewal fail?",
            session_id=victim_conversation,
            customData={"token": acme},
            metadata={"token": acme},
        )
        assert "4242" not in answer and "sign in" in answer
    # another customer gets their own conversation, never the victim's history
    with ChatClient(assistant, {"token": issue_token("admin@globex.example")}) as other:
        assert other.session["session_id"] != victim_conversation
        assert not any("4242" in m["text"] for m in other.history)


def test_an_anonymous_visitor_continues_only_with_the_signed_session_token(assistant) -> None:
    with ChatClient(assistant, {"locale": "en-US"}) as first:
        first.send("/greet")
        conversation, session_token = first.session["session_id"], first.session["session_token"]
    with ChatClient(assistant, {"session": session_token}) as again:
        assert again.session["session_id"] == conversation and again.history
    forged = session_token[:-4] + ("AAAA" if not session_token.endswith("AAAA") else "BBBB")
    with ChatClient(assistant, {"session": forged}) as stranger:
        assert stranger.session["session_id"] != conversation and stranger.history == []


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        issue_token("admin@acme.example", secret="wrong-secret"),
        issue_token("admin@acme.example", minutes=-5),
    ],
)
def test_a_bad_token_is_refused_at_connect(assistant, token) -> None:
    client = socketio.Client(reconnection=False)
    refusals = []
    client.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(assistant.url, auth={"token": token}, transports=["polling"], wait_timeout=30)
    assert refusals and "invalid_token" in str(refusals[0])


@pytest.mark.parametrize("payload", [None, "", 42, {"text": "hi"}, {"message": ["x"]}, {"message": ""}])
def test_malformed_messages_are_ignored_and_the_connection_keeps_working(assistant, payload) -> None:
    with ChatClient(assistant, {"locale": "en-US"}) as chat:
        chat.emit(payload)
        assert "support assistant" in chat.send("/greet")


def test_card_numbers_typed_in_the_widget_are_never_stored(assistant) -> None:
    with ChatClient(assistant, {"locale": "en-US"}) as chat:
        chat.send("my card 4242 4242 4242 4242 cvv 123 was refused")
        conversation = chat.session["session_id"]
    stored = [e["text"] for e in assistant.tracker(conversation)["events"] if e["event"] == "user"]
    assert stored == ["my card [card number removed] cvv [security code removed] was refused"]


def test_a_message_sent_again_with_its_id_is_answered_on_that_connection_not_handled_again(assistant) -> None:
    """The widget sends again a message its history lacks (its first connection died before it saw the answer):
    the copy gets the stored answer on its own connection, and the conversation holds the message once."""
    token = issue_token("admin@acme.example")
    question = "est-ce que mes crédits de téléphonie sont remboursés si je résilie ?"
    with ChatClient(assistant, {"token": token, "locale": "fr-FR"}) as chat:
        first = chat.send(question, message_id="resend-check-1")
        conversation = chat.session["session_id"]
    assert "téléphonie" in first
    with ChatClient(assistant, {"token": issue_token("admin@acme.example"), "locale": "fr-FR"}) as again:
        again.emit({"message": question, "message_id": "resend-check-1"})
        copy = again.receive(count=first.count("\n") + 1, wait=30)
    assert copy == first
    ids = [e.get("message_id") for e in assistant.tracker(conversation)["events"] if e["event"] == "user"]
    assert ids.count("resend-check-1") == 1
