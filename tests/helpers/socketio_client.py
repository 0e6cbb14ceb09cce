"""A real socket.io client for the chat channel (channels/socketio.py), as the widget talks to it."""

from __future__ import annotations

import logging
import queue
import time
from typing import Any, Dict, List, Optional

import requests
import socketio
from requests.adapters import HTTPAdapter

from tests.helpers.server import Assistant

logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on disconnect


class ChatClient:
    """Connects with `auth` ({"token", "locale", "session"}); the server decides the conversation.

    A turn is over when the conversation's tracker says so (the bot listens again, or a person owns the
    conversation): `send` then returns exactly the replies of that turn, with no quiet window to wait out."""

    def __init__(self, assistant: Assistant, auth: Optional[Dict[str, Any]] = None) -> None:
        self.assistant = assistant
        self.auth = auth or {}
        self.replies: queue.Queue[dict] = queue.Queue()
        self.confirmed: queue.Queue[dict] = queue.Queue()
        self.histories: queue.Queue[list] = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("history", lambda data: self.histories.put(data.get("messages", [])))
        self.session: Dict[str, Any] = {}
        self.history: List[dict] = []

    def __enter__(self) -> ChatClient:
        self.client.connect(
            self.assistant.url, auth=self.auth, transports=["polling"], socketio_path="/socket.io", wait_timeout=30
        )
        self.session = self.confirmed.get(timeout=30)
        self.history = self.histories.get(timeout=30)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.disconnect()

    def emit(self, data: Any) -> None:
        self.client.emit("user_uttered", data)

    def send(self, text: str, wait: float = 60, **fields: Any) -> str:
        """Sends a message (with any other `fields` a client might add) and returns the bot's answer
        ('' when the turn ends without one)."""
        users_before = self._user_messages()
        self.emit({"message": text, **fields})
        count = self._turn_replies(users_before, wait)
        return self.receive(count, wait)

    def receive(self, count: int = 1, wait: float = 30) -> str:
        """The next `count` messages pushed to this client (an agent's reply, the bot back), joined."""
        return "\n".join(message.get("text", "") for message in self.receive_messages(count, wait))

    def receive_messages(self, count: int = 1, wait: float = 30) -> List[dict]:
        deadline = time.monotonic() + wait
        messages: List[dict] = []
        while len(messages) < count:
            try:
                messages.append(self.replies.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                break
        return messages

    def _events(self) -> List[dict]:
        return self.assistant.tracker(self.session["session_id"])["events"]

    def _user_messages(self) -> int:
        return sum(1 for event in self._events() if event["event"] == "user")

    def _turn_replies(self, users_before: int, wait: float) -> int:
        """How many bot messages the turn of the next user message sent, once the turn is over."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            tracker = self.assistant.tracker(self.session["session_id"])
            events = tracker["events"]
            users = [n for n, event in enumerate(events) if event["event"] == "user"]
            if len(users) > users_before:
                turn = events[users[users_before] :]
                listening = turn[-1]["event"] == "action" and turn[-1].get("name") == "action_listen"
                if listening or tracker.get("paused"):
                    return sum(1 for event in turn if event["event"] == "bot")
            time.sleep(0.1)
        raise AssertionError(f"the turn did not end within {wait} s")


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a given local address: on one machine, 127.0.0.2, 127.0.0.3... look like different clients."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


class Widget:
    """A widget as web/widget/chat-widget.js behaves across a lost replica: polling transport, reconnects by
    itself, each message with an id, and the recent ones the history does not show sent again (same id)."""

    def __init__(self, url: str, source: str, locale: str = "en-GB") -> None:
        self.url, self.source = url, source
        self.auth: Dict[str, Any] = {"locale": locale}  # the client sends this same dict on every reconnection
        self.conversation = ""
        self.histories: List[List[dict]] = []
        self.replies: List[dict] = []
        self.unconfirmed: Dict[str, str] = {}
        self.resent: List[str] = []
        http = requests.Session()
        http.mount("http://", SourceAddressAdapter(source))
        self.client = socketio.Client(reconnection=True, reconnection_delay=0.5, http_session=http)
        self.client.on("session_confirm", self._confirmed)
        self.client.on("history", self._history)
        self.client.on("bot_uttered", self.replies.append)

    def connect(self) -> None:
        self.client.connect(self.url, auth=self.auth, transports=["polling"], socketio_path="/socket.io")
        deadline = time.monotonic() + 30
        while not self.histories and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.histories, f"no history for the widget at {self.source}"

    def send(self, text: str, message_id: str) -> None:
        self.unconfirmed[message_id] = text
        self.client.emit("user_uttered", {"message": text, "message_id": message_id})

    def close(self) -> None:
        self.client.disconnect()

    def _confirmed(self, data: dict) -> None:
        self.conversation = data["session_id"]
        if data.get("session_token"):
            self.auth["session"] = data["session_token"]

    def _history(self, data: dict) -> None:
        messages = data.get("messages", [])
        self.histories.append(messages)
        shown = {m.get("id") for m in messages if m.get("sender") == "user"}
        missing = {key: text for key, text in self.unconfirmed.items() if key not in shown}
        self.unconfirmed = {}
        for key, text in missing.items():
            self.resent.append(key)
            self.send(text, key)
