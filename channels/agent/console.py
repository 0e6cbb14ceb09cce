"""The agents' side inside the Rasa server: the console page, its HTTP API, and the helpdesk worker.

Registered as an input channel (credentials.yml) so that it runs in the process that owns the
conversations: an agent's reply goes out on the customer's own channel and into the tracker, and
resolving a ticket resumes the bot (ConversationResumed) with a message in the customer's language.
API: /agent/api/... with HTTP Basic credentials from AGENT_CREDENTIALS ("name:password,...").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from channels.agent.conversation import resume, tell_customer
from channels.agent.helpdesk_webhook import add_helpdesk_routes
from channels.agent.manager import add_manager_routes
from channels.database import in_database
from channels.web.pages import send_file
from support.adapters import configured_smtp, configured_transport
from support.clock import now_utc
from support.db.engine import engine
from support.emails.worker import deliver_due as deliver_emails
from support.handoff.desk import (
    TicketError,
    assign,
    close,
    detail,
    find,
    queue,
    record_reply,
    ticket_row,
)
from support.helpdesk.outbox import message_data
from support.helpdesk.worker import deliver_due
from support.settings import ROOT, environment, is_production

logger = logging.getLogger(__name__)

WEB_DIR = ROOT / "web" / "agent"
CONSOLE_FILES = {
    "": (WEB_DIR / "index.html", "text/html"),
    "analytics": (WEB_DIR / "analytics.html", "text/html"),
    "common.js": (WEB_DIR / "common.js", "application/javascript"),  # shared by console.js and analytics.js
    "console.js": (WEB_DIR / "console.js", "application/javascript"),
    "console.css": (WEB_DIR / "console.css", "text/css"),
    "analytics.js": (WEB_DIR / "analytics.js", "application/javascript"),
    "analytics.css": (WEB_DIR / "analytics.css", "text/css"),
    "chart.umd.js": (ROOT / "web" / "node_modules" / "chart.js" / "dist" / "chart.umd.js", "application/javascript"),
}
DEV_CREDENTIALS = "agent:agent-dev-password,manager:manager-dev-password"  # development only
DEV_MANAGERS = "manager"


def parse_credentials(text: str) -> Dict[str, str]:
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {name.strip(): secret.strip() for name, secret in pairs if name.strip() and secret.strip()}


def agent_credentials(configured: Optional[str] = None) -> Dict[str, str]:
    text = environment().agent_credentials or configured or ""
    if not text and not is_production():
        logger.warning("AGENT_CREDENTIALS is not set: the agent console uses the DEVELOPMENT credentials.")
        text = DEV_CREDENTIALS
    return parse_credentials(text)


def manager_names(agents: Dict[str, str]) -> frozenset:
    """The agents with the manager role (AGENT_MANAGERS; in development without credentials, `manager`)."""
    text = environment().agent_managers
    if text is None and not is_production() and not environment().agent_credentials:
        text = DEV_MANAGERS
    return frozenset(name.strip() for name in (text or "").split(",") if name.strip() in agents)


def authenticated_agent(request: Request, agents: Dict[str, str]) -> Optional[str]:
    """The agent named by valid Basic credentials; every configured pair is compared in constant time."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        name, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    found = None
    for known, known_secret in agents.items():
        if hmac.compare_digest(known.encode(), name.encode()) & hmac.compare_digest(
            known_secret.encode(), secret.encode()
        ):
            found = known
    return found


def error(code: str, status: int) -> HTTPResponse:
    return response.json({"error": code}, status=status)


EMAIL_POLL_SECONDS = 2.0
TICKET_ERRORS = {"not_found": 404, "resolved": 409, "empty": 400, "too_long": 400}


def keep_delivering(app: Any, name: str, deliver: Callable[[], Any], every: float) -> None:
    """Runs `deliver` (blocking: on a thread) every `every` seconds for as long as the server runs."""

    async def work() -> None:
        while True:
            try:
                await asyncio.to_thread(deliver)
            except SQLAlchemyError as problem:
                logger.warning("%s worker: database unavailable (%s)", name, type(problem).__name__)
            except Exception:  # noqa: BLE001 - the worker must outlive any single bad row
                logger.exception("%s worker: unexpected error", name)
            await asyncio.sleep(every)

    app.add_task(work())


async def start_helpdesk_worker(app: Any, loop: Any) -> None:
    """Delivers the helpdesk outbox from inside the Rasa server while a helpdesk is configured."""
    transport = configured_transport()
    if transport is None:
        return
    logger.info("helpdesk outbox worker started (%s)", type(transport).__name__)
    keep_delivering(
        app, "helpdesk", lambda: deliver_due(engine(), transport, now_utc()), environment().helpdesk_poll_seconds
    )


async def start_email_worker(app: Any, loop: Any) -> None:
    """Delivers the email outbox over SMTP from inside the Rasa server while SMTP_URL is set."""
    smtp = configured_smtp()
    if smtp is None:
        return
    logger.info("email outbox worker started (%s:%s)", smtp.host, smtp.port)
    keep_delivering(app, "email", lambda: deliver_emails(engine(), smtp, now_utc()), EMAIL_POLL_SECONDS)


class AgentConsoleInput(InputChannel):
    """Not a customer channel: it only adds the agents' routes to the Rasa server."""

    def __init__(self, agents: Dict[str, str]) -> None:
        self.agents = agents
        self.managers = manager_names(agents)

    @classmethod
    def name(cls) -> str:
        return "agent_console"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(agent_credentials((credentials or {}).get("agents")))

    def url_prefix(self) -> str:
        return "/agent"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("agent_console", __name__)
        api = self._api

        async def page(request: Request) -> HTTPResponse:
            return await send_file(CONSOLE_FILES, "")

        async def static(request: Request, name: str) -> HTTPResponse:
            return await send_file(CONSOLE_FILES, name)

        async def analytics_page(request: Request) -> HTTPResponse:
            return await send_file(CONSOLE_FILES, "analytics")

        bp.add_route(page, "/", methods=["GET"])
        bp.add_route(static, "/static/<name>", methods=["GET"])
        bp.add_route(api(self._me), "/api/me", methods=["GET"])
        bp.add_route(api(self._list), "/api/tickets", methods=["GET"])
        bp.add_route(api(self._detail), "/api/tickets/<reference>", methods=["GET"])
        bp.add_route(api(self._assign), "/api/tickets/<reference>/assign", methods=["POST"])
        bp.add_route(api(self._reply), "/api/tickets/<reference>/reply", methods=["POST"])
        bp.add_route(api(self._resolve), "/api/tickets/<reference>/resolve", methods=["POST"])
        bp.add_route(api(self._handback), "/api/tickets/<reference>/handback", methods=["POST"])
        add_helpdesk_routes(bp)
        add_manager_routes(bp, analytics_page, self._manager_api)
        bp.listener("after_server_start")(start_helpdesk_worker)
        bp.listener("after_server_start")(start_email_worker)
        return bp

    # --- plumbing -------------------------------------------------------------------------

    def _api(self, handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
        async def guarded(request: Request, **params: Any) -> HTTPResponse:
            agent = authenticated_agent(request, self.agents)
            if agent is None:
                return error("unauthorized", 401)
            try:
                return await handler(request, agent, **params)
            except TicketError as problem:
                return error(problem.code, TICKET_ERRORS.get(problem.code, 400))
            except SQLAlchemyError as problem:
                logger.warning("agent API: database unavailable (%s)", type(problem).__name__)
                return error("database_unavailable", 503)

        guarded.__name__ = handler.__name__.strip("_")
        return guarded

    def _manager_api(self, handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
        async def only_managers(request: Request, agent: str, **params: Any) -> HTTPResponse:
            if agent not in self.managers:
                return error("forbidden", 403)
            return await handler(request, agent, **params)

        only_managers.__name__ = handler.__name__
        return self._api(only_managers)

    # --- API ------------------------------------------------------------------------------

    async def _me(self, request: Request, agent: str) -> HTTPResponse:
        return response.json({"agent": agent, "manager": agent in self.managers})

    async def _list(self, request: Request, agent: str) -> HTTPResponse:
        status = request.args.get("status", "active")
        return response.json({"tickets": await in_database(lambda s: queue(s, status, now_utc()))})

    async def _detail(self, request: Request, agent: str, reference: str) -> HTTPResponse:
        return response.json({"ticket": await in_database(lambda s: detail(s, reference, now_utc()))})

    async def _assign(self, request: Request, agent: str, reference: str) -> HTTPResponse:
        now = now_utc()
        row = await in_database(lambda s: ticket_row(s, assign(s, reference, agent, now), now))
        return response.json({"ticket": row})

    async def _reply(self, request: Request, agent: str, reference: str) -> HTTPResponse:
        text = str((request.json or {}).get("text") or "") if isinstance(request.json, dict) else ""
        now = now_utc()

        def save(session: Any) -> Dict[str, Any]:
            message = record_reply(session, reference, agent, text, now)
            return {"message": message_data(message), "conversation": message.ticket.conversation_id}

        saved = await in_database(save)
        delivered = await tell_customer(request.app, saved["conversation"], saved["message"]["text"], agent)
        return response.json({"message": saved["message"], "delivered": delivered})

    async def _resolve(self, request: Request, agent: str, reference: str) -> HTTPResponse:
        return await self._close(request, agent, reference, "resolved")

    async def _handback(self, request: Request, agent: str, reference: str) -> HTTPResponse:
        return await self._close(request, agent, reference, "handed_back")

    async def _close(self, request: Request, agent: str, reference: str, resolution: str) -> HTTPResponse:
        now = now_utc()

        def save(session: Any) -> Dict[str, Any]:
            try:
                ticket, repeated = close(session, reference, agent, resolution, now), False
            except TicketError as problem:
                if problem.code != "resolved":
                    raise
                ticket, repeated = find(session, reference), True  # resolved, but was the bot resumed?
            return {**ticket_row(session, ticket, now), "conversation_id": ticket.conversation_id, "repeated": repeated}

        row = await in_database(save)
        resumed = await resume(request.app, row["conversation_id"], resolution, row["reference"])
        if row.pop("repeated") and not resumed:
            return error("resolved", 409)
        return response.json({"ticket": row})
