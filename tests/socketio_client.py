"""A real socket.io client for the chat channel, as the widget talks to it."""
from __future__ import annotations

import logging
import queue
import uuid
from typing import Any, Dict, Optional

import socketio

logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # "packet queue is empty" on disconnect


class ChatClient:
    def __init__(self, url: str, custom_data: Optional[Dict[str, Any]] = None) -> None:
        self.url = url
        self.custom_data = custom_data or {}
        self.session_id = uuid.uuid4().hex
        self.replies: "queue.Queue[dict]" = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("bot_uttered", self.replies.put)

    def __enter__(self) -> "ChatClient":
        self.client.connect(self.url, transports=["polling"], socketio_path="/socket.io", wait_timeout=30)
        self.client.emit("session_request", {"session_id": self.session_id})
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.disconnect()

    def send(self, text: str, wait: float = 60) -> str:
        """Sends a message and returns the bot's answer ('' if it says nothing within `wait` seconds)."""
        self.client.emit("user_uttered", {"message": text, "session_id": self.session_id,
                                          "customData": self.custom_data})
        return self.receive(wait)

    def receive(self, wait: float = 30) -> str:
        """Every message received until three quiet seconds follow the first one."""
        try:
            texts = [self.replies.get(timeout=wait).get("text", "")]
        except queue.Empty:
            return ""
        while True:
            try:
                texts.append(self.replies.get(timeout=3).get("text", ""))
            except queue.Empty:
                return "\n".join(texts)
