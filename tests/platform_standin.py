"""A loopback stand-in of the Telegram Bot API, the Messenger Send API and the Slack Web API.

A small threaded HTTP server in the test process: it records every call (platform, method, path,
query, headers, JSON or form body) and answers like the platform does, including the platform's
own refusal when the token is wrong. `failing = True` makes it answer like a platform that is down.

    with PlatformStandIn(telegram_token="...", facebook_token="...", slack_token="...") as standin:
        env = {"TELEGRAM_API_BASE": standin.telegram_base, ...}
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List
from urllib.parse import parse_qs, urlparse


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


class PlatformStandIn:
    def __init__(self, telegram_token: str = "", facebook_token: str = "", slack_token: str = "") -> None:
        self.tokens = {"telegram": telegram_token, "facebook": facebook_token, "slack": slack_token}
        self.calls: List[Call] = []
        self.failing = False
        self._lock = threading.Condition()
        self._counter = 0
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                standin._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # --- life cycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def telegram_base(self) -> str:
        return f"{self.url}/telegram"

    @property
    def facebook_base(self) -> str:
        return f"{self.url}/facebook/v19.0"

    @property
    def slack_base(self) -> str:
        return f"{self.url}/slack/api"

    def __enter__(self) -> "PlatformStandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the tests look at ----------------------------------------------------------------

    def calls_for(self, predicate: Callable[[Call], bool]) -> List[Call]:
        with self._lock:
            return [call for call in self.calls if predicate(call)]

    def wait_for(self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 60,
                 settle: float = 0.0) -> List[Call]:
        """The matching calls once there are `count` of them (then `settle` seconds more for late ones)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len([c for c in self.calls if predicate(c)]) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
        if settle:
            time.sleep(settle)
        return self.calls_for(predicate)

    # --- the platforms ---------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urlparse(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
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
        with self._lock:
            self.calls.append(call)
            self._counter += 1
            number = self._counter
            self._lock.notify_all()
        status, answer = self._answer(platform, method, token, body, number)
        payload = json.dumps(answer).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _answer(self, platform: str, method: str, token: str, body: Any, number: int) -> tuple[int, Any]:
        body = body if isinstance(body, dict) else {}
        if self.failing:
            return 502, {"error": "bad gateway"}
        if platform == "telegram":
            if token != self.tokens["telegram"]:
                return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
            if method == "sendMessage":
                return 200, {"ok": True, "result": {"message_id": number, "date": int(time.time()),
                                                    "chat": {"id": body.get("chat_id"), "type": "private"},
                                                    "text": body.get("text")}}
            if method == "answerCallbackQuery":
                return 200, {"ok": True, "result": True}
            return 200, {"ok": True, "result": {"message_id": number}}
        if platform == "facebook":
            if token != self.tokens["facebook"]:
                return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                                       "code": 190, "fbtrace_id": "standin"}}
            return 200, {"recipient_id": (body.get("recipient") or {}).get("id"), "message_id": f"m_standin_{number}"}
        if platform == "slack":
            if token != self.tokens["slack"]:
                return 200, {"ok": False, "error": "invalid_auth"}
            return 200, {"ok": True, "channel": body.get("channel"), "ts": f"{time.time():.6f}",
                         "message": {"text": body.get("text"), "bot_id": "B0STANDIN", "type": "message"}}
        return 404, {"error": "unknown platform"}
