"""The helpdesk's way back into a conversation: Chatwoot's webhook and the generic signed inbound API.

POST /agent/helpdesk/chatwoot/<token>  Chatwoot's account webhook (the token is HELPDESK_WEBHOOK_TOKEN; with
                                       HELPDESK_WEBHOOK_SECRET, Chatwoot's X-Chatwoot-Signature too)
POST /agent/helpdesk/inbound           the generic API, signed: X-Helpdesk-Signature-256 (HELPDESK_SECRET)

An agent's reply reaches the customer on their own channel and stays in the conversation; resolving (or, in
Chatwoot, setting the conversation back to pending) resumes the bot with a message in the customer's language.
Answers: 200 with what was done (also for an event that changes nothing: a helpdesk must not retry those),
401 for a bad secret, 404 when the route is not configured or the ticket is unknown, 503 database down.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from channels.agent.conversation import resume, tell_customer
from channels.database import in_database
from support.clock import now_utc
from support.handoff.desk import TicketError
from support.helpdesk.inbound import (
    IGNORED,
    REPLY,
    InboundEvent,
    apply,
    chatwoot_signature_matches,
    from_chatwoot,
    from_generic,
    signature_matches,
    token_matches,
)
from support.settings import environment

logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


def _json(request: Request) -> Any:
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return None


async def _handle(request: Request, read: Callable[[Any], InboundEvent]) -> HTTPResponse:
    if len(request.body or b"") > MAX_BODY:
        return response.json({"error": "too_large"}, status=413)
    payload = _json(request)
    if not isinstance(payload, dict):
        return response.json({"error": "invalid_json"}, status=400)
    event = read(payload)
    if event.kind == IGNORED:
        return response.json({"result": "ignored", "why": event.why})
    try:
        applied = await in_database(lambda session: apply(session, event, now_utc()))
    except TicketError as problem:
        logger.warning("helpdesk %s event for an unknown ticket (%s)", event.source, problem.code)
        return response.json({"error": problem.code}, status=404 if problem.code == "not_found" else 400)
    except SQLAlchemyError as problem:
        logger.warning("helpdesk webhook: database unavailable (%s)", type(problem).__name__)
        return response.json({"error": "database_unavailable"}, status=503)
    if applied.kind == "duplicate":
        return response.json({"result": "duplicate", "ticket": applied.reference})
    if applied.kind == REPLY:
        delivered = await tell_customer(request.app, applied.conversation_id, applied.text, applied.agent)
        return response.json({"result": "reply", "ticket": applied.reference, "delivered": delivered})
    resumed = await resume(request.app, applied.conversation_id, applied.kind, applied.reference)
    return response.json({"result": applied.kind, "ticket": applied.reference, "resumed": resumed})


def add_helpdesk_routes(bp: Blueprint) -> None:
    async def chatwoot(request: Request, token: str) -> HTTPResponse:
        expected = environment().helpdesk_webhook_token
        if not expected:
            return response.json({"error": "not_found"}, status=404)
        if not token_matches(token, expected):
            return response.json({"error": "unauthorized"}, status=401)
        secret = environment().helpdesk_webhook_secret
        if secret and not chatwoot_signature_matches(
            request.body or b"",
            request.headers.get("x-chatwoot-timestamp"),
            request.headers.get("x-chatwoot-signature"),
            secret,
            time.time(),
        ):
            return response.json({"error": "unauthorized"}, status=401)
        return await _handle(request, from_chatwoot)

    async def inbound(request: Request) -> HTTPResponse:
        secret = environment().helpdesk_secret
        if not secret:
            return response.json({"error": "not_found"}, status=404)
        if not signature_matches(request.body or b"", request.headers.get("x-helpdesk-signature-256"), secret):
            return response.json({"error": "unauthorized"}, status=401)
        return await _handle(request, from_generic)

    bp.add_route(chatwoot, "/helpdesk/chatwoot/<token>", methods=["POST"])
    bp.add_route(inbound, "/helpdesk/inbound", methods=["POST"])
