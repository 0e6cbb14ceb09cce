"""Pages the Rasa server serves: the chat widget (/widget/...), and the demo host page (/chat/) with
its demo sign-in (/demo/users, /demo/token), which exist only outside production."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.database import in_database
from support.demo_data import demo_users
from support.emails.dev_mailbox import messages_to
from support.identity import issue_token, verified_token
from support.settings import ROOT, check_configuration, environment, is_production

WEB = ROOT / "web"
WIDGET_FILES = {
    "chat-widget.js": (WEB / "widget" / "chat-widget.js", "application/javascript"),
    "chat-widget.css": (WEB / "widget" / "chat-widget.css", "text/css"),
    "socket.io.min.js": (
        WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "application/javascript",
    ),
}
DEMO_FILES = {
    "": (WEB / "demo" / "index.html", "text/html"),
    "demo.js": (WEB / "demo" / "demo.js", "application/javascript"),
    "demo.css": (WEB / "demo" / "demo.css", "text/css"),
}
# Every page of ours loads only its own files: no inline script or style, no frame around it.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DEMO_TOKEN_MINUTES = 60


async def security_headers(request: Request, answer: HTTPResponse) -> None:
    """On every answer of the Rasa server: no MIME sniffing, no referrer; pages get their CSP and no frame."""
    answer.headers.setdefault("X-Content-Type-Options", "nosniff")
    answer.headers.setdefault("Referrer-Policy", "no-referrer")
    if (answer.content_type or "").startswith("text/html"):
        answer.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        answer.headers.setdefault("X-Frame-Options", "DENY")


class RootBlueprint(Blueprint):
    """Routes at the site root (Rasa would otherwise put every channel under /webhooks/); it also puts the
    security headers on every answer of the server."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        super().register(app, {**options, "url_prefix": None})
        app.register_middleware(security_headers, "response")


async def send_file(files: Dict[str, tuple], name: str) -> HTTPResponse:
    if name not in files or not files[name][0].exists():
        return response.json({"error": "not_found"}, status=404)
    path, mime = files[name]
    return await response.file(path, mime_type=mime, headers={"Cache-Control": "no-cache"})


class WebPagesInput(InputChannel):
    """Not a conversation channel: it only serves files (and the demo sign-in in development)."""

    @classmethod
    def name(cls) -> str:
        return "web_pages"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        check_configuration()  # the Rasa server refuses to start without real secrets outside development
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = RootBlueprint("web_pages", __name__)

        @bp.route("/widget/<name>", methods=["GET"])
        async def widget(request: Request, name: str) -> HTTPResponse:
            return await send_file(WIDGET_FILES, name)

        @bp.route("/chat/", methods=["GET"])
        async def demo_page(request: Request) -> HTTPResponse:
            return await send_file(DEMO_FILES, "") if not is_production() else response.text("", status=404)

        @bp.route("/chat/<name>", methods=["GET"])
        async def demo_file(request: Request, name: str) -> HTTPResponse:
            return await send_file(DEMO_FILES, name) if not is_production() else response.text("", status=404)

        @bp.route("/demo/users", methods=["GET"])
        async def users(request: Request) -> HTTPResponse:
            if is_production():
                return response.json({"error": "not_found"}, status=404)
            return response.json({"users": await in_database(demo_users)})

        @bp.route("/demo/token", methods=["GET"])
        async def token(request: Request) -> HTTPResponse:
            """Signs in as a demo user, as the host website would: never in production."""
            email = (request.args.get("email") or "").strip().lower()
            if is_production():
                return response.json({"error": "not_found"}, status=404)
            if email not in {user["email"] for user in await in_database(demo_users)}:
                return response.json({"error": "unknown_user"}, status=404)
            return response.json({"token": issue_token(email, minutes=DEMO_TOKEN_MINUTES)})

        @bp.route("/demo/mailbox", methods=["GET"])
        async def mailbox(request: Request) -> HTTPResponse:
            """What the development mail catcher received for the signed-in demo user (Bearer token)."""
            directory = environment().dev_mailbox
            if is_production() or not directory:
                return response.json({"error": "not_found"}, status=404)
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            customer = verified_token(token.strip()) if scheme.lower() == "bearer" else None
            if customer is None:
                return response.json({"error": "unauthorized"}, status=401)
            found = await asyncio.to_thread(messages_to, Path(directory), customer.email)
            return response.json({"address": customer.email, "messages": found})

        return bp
