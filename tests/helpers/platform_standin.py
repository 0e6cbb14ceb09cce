"""A loopback stand-in of the Telegram Bot API, the Messenger Send API and the Slack Web API.

A LoopbackServer (tests/helpers/loopback.py): it records every call (platform, method, path,
query, headers, JSON or form body) and answers like the platform does, including the platform's
own refusal when the token is wrong. `failing = True` makes it answer like a platform that is down.

    with PlatformStandIn(telegram_token="...", facebook_token="...", slack_token="...") as standin:
        env = {"TELEGRAM_API_BASE": standin.telegram_base, ...}
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Dict, Tuple
from urllib.parse import parse_qs, urlparse

from tests.helpers.loopback import LoopbackServer


@dataclass
class Call:
    platform: str  # telegram, facebook, slack
    method: str  # sendMessage, me/messages, chat.postMessage...
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    body: Any  # the decoded JSON (or form) body
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """The message text, whatever the platform."""
        if self.platform == "facebook":
            return str(((self.body or {}).get("message") or {}).get("text") or "")
        return str((self.body or {}).get("text") or "")


class PlatformStandIn(LoopbackServer[Call]):
    def __init__(self, telegram_token: str = "", facebook_token: str = "", slack_token: str = "") -> None:
        self.tokens = {"telegram": telegram_token, "facebook": facebook_token, "slack": slack_token}
        self.failing = False
        self._counter = 0
        super().__init__()

    @property
    def telegram_base(self) -> str:
        return f"{self.url}/telegram"

    @property
    def facebook_base(self) -> str:
        return f"{self.url}/facebook/v19.0"

    @property
    def slack_base(self) -> str:
        return f"{self.url}/slack/api"

    def __enter__(self) -> PlatformStandIn:
        return self

    def respond(self, request: BaseHTTPRequestHandler, raw: bytes) -> Tuple[Call, int, Any]:
        parsed = urlparse(request.path)
        content_type = request.headers.get("Content-Type") or ""
        if "json" in content_type:
            body: Any = json.loads(raw or b"null")
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
        platform, _, rest = parsed.path.lstrip("/").partition("/")
        if platform == "telegram":
            token_part, _, method = rest.partition("/")
            token = token_part[3:] if token_part.startswith("bot") else ""
        elif platform == "facebook":
            method = rest.partition("/")[2]  # v19.0/me/messages -> me/messages
            token = query.get("access_token", "")
        else:
            method = rest.partition("/")[2]  # api/chat.postMessage -> chat.postMessage
            token = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        call = Call(platform, method, parsed.path, query, {k.lower(): v for k, v in request.headers.items()}, body)
        self._counter += 1
        status, answer = self._answer(platform, method, token, body, self._counter)
        return call, status, answer

    def _answer(self, platform: str, method: str, token: str, body: Any, number: int) -> tuple[int, Any]:
        body = body if isinstance(body, dict) else {}
        if self.failing:
            return 502, {"error": "bad gateway"}
        if platform == "telegram":
            if token != self.tokens["telegram"]:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if method == "sendMessage":
                return 200, {
                    "ok": True,
                    "result": {
                        "message_id": number,
                        "date": int(time.time()),
                        "chat": {"id": body.get("chat_id"), "type": "private"},
                        "text": body.get("text"),
                    },
                }
            if method == "answerCallbackQuery":
                return 200, {"ok": True, "result": True}
            return 200, {"ok": True, "result": {"message_id": number}}
        if platform == "facebook":
            if token != self.tokens["facebook"]:
                return 400, {
                    "error": {
                        "message": "Invalid OAuth access token.",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": "standin",
                    }
                }
            return 200, {"recipient_id": (body.get("recipient") or {}).get("id"), "message_id": f"m_standin_{number}"}
        if platform == "slack":
            if token != self.tokens["slack"]:
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {
                "ok": True,
                "channel": body.get("channel"),
                "ts": f"{time.time():.6f}",
                "message": {"text": body.get("text"), "bot_id": "B0STANDIN", "type": "message"},
            }
        return 404, {"error": "unknown platform"}
