"""The socket.io channel: a real client, the token and locale passed as the client's custom data."""
from __future__ import annotations

import logging
import queue
import uuid

import socketio

from actions.identity import issue_token

logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on disconnect


def _converse(url: str, text: str, custom_data: dict) -> str:
    replies: "queue.Queue[dict]" = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", replies.put)
    session_id = uuid.uuid4().hex
    client.connect(url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
    try:
        client.emit("session_request", {"session_id": session_id})
        client.emit("user_uttered", {"message": text, "session_id": session_id, "customData": custom_data})
        texts = [replies.get(timeout=60).get("text", "")]
        while True:
            try:
                texts.append(replies.get(timeout=3).get("text", ""))
            except queue.Empty:
                return "\n".join(texts)
    finally:
        client.disconnect()


def test_socketio_answers_in_the_locale_language(assistant) -> None:
    text = _converse(assistant.url, "/greet", {"locale": "fr-FR"})
    assert "Bonjour" in text


def test_socketio_carries_the_token_in_custom_data(assistant) -> None:
    signed_in = _converse(assistant.url, "what plan am I on?", {"token": issue_token("admin@globex.example")})
    assert "Standard" in signed_in
    anonymous = _converse(assistant.url, "what plan am I on?", {})
    assert "Standard" not in anonymous and "sign in" in anonymous
