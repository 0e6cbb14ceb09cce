"""A real socket.io client for the chat channel (channels/socketio.py), as the widget talks to it."""
from __future__ import annotations

import logging
import queue
from typing import Any, Dict, List, Optional

import socketio

logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on disconnect


class ChatClient:
    """Connects with `auth` ({"token", "locale", "session"}); the server decides the conversation."""

    def __init__(self, url: str, auth: Optional[Dict[str, Any]] = None) -> None:
        self.url = url
        self.auth = auth or {}
        self.replies: "queue.Queue[dict]" = queue.Queue()
        self.confirmed: "queue.Queue[dict]" = queue.Queue()
        self.histories: "queue.Queue[list]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)
        self.client.on("session_confirm", self.confirmed.put)
        self.client.on("history", lambda data: self.histories.put(data.get("messages", [])))
        self.session: Dict[str, Any] = {}
        self.history: List[dict] = []

    def __enter__(self) -> "ChatClient":
        self.client.connect(self.url, auth=self.auth, transports=["polling"], socketio_path="/socket.io",
                            wait_timeout=30)
        self.session = self.confirmed.get(timeout=30)
        self.history = self.histories.get(timeout=30)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.disconnect()

    def emit(self, data: Any) -> None:
        self.client.emit("user_uttered", data)

    def send(self, text: str, wait: float = 60) -> str:
        """Sends a message and returns the bot's answer ('' if it says nothing within `wait` seconds)."""
        self.emit({"message": text})
        return self.receive(wait)

    def receive(self, wait: float = 30) -> str:
        """Every message received until three quiet seconds follow the first one."""
        return "\n".join(message.get("text", "") for message in self.receive_messages(wait))

    def receive_messages(self, wait: float = 30) -> List[dict]:
        try:
            messages = [self.replies.get(timeout=wait)]
        except queue.Empty:
            return []
        while True:
            try:
                messages.append(self.replies.get(timeout=3))
            except queue.Empty:
                return messages
