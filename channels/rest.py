"""The REST channel for integrations (credentials.yml `channels.rest.RestInput:`), in place of Rasa's own.

POST /webhooks/rest/webhook with `{"sender": "...", "message": "...", "metadata": {"locale"?, "token"?},
"message_id"?: "..."}` answers the bot's messages as Rasa's REST channel does (`[{"recipient_id", "text",
"buttons"?}]`). A client that sends a message id may retry (a timeout, a 502 from a replica that died): the
message is handled once and every copy gets its answer (channels/message_ids.py).
- Outside development an integration key is required: `Authorization: Bearer <key>`, one of REST_API_KEYS
  ("name:key,..."), compared in constant time; 401 otherwise.
- Its conversations have their own namespace, `rest-<sender>`: a REST client can never address the
  widget's (`web-...`) or a messenger's (`telegram-...`) conversations. A sender is 1 to 64 letters,
  digits and `._:-`.
- A body that is not a JSON object with a string sender, a string message and (if any) an object
  metadata gets 400 `{"error": "..."}`; nothing reaches Rasa.
- The text goes through channels/gate.py (cleaned; too long or over the rate limit: answered in the
  conversation's language, nothing stored). Of the metadata only `locale` is kept, and `token`, when it
  verifies, becomes the channel's attestation of the customer: the token itself is never stored.
"""

from __future__ import annotations

import hmac
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.gate import admit, conversation_language, identity_metadata, refusal
from channels.message_ids import CLIENT_ID, once
from support.identity import verified_token
from support.settings import environment

logger = logging.getLogger(__name__)

NAMESPACE = "rest-"
SENDER = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
MAX_BODY_BYTES = 256 * 1024  # far above any message the gate accepts: bigger bodies are not even parsed


def conversation_id(sender: str) -> str:
    return NAMESPACE + sender


def api_keys() -> Dict[str, str]:
    text = environment().rest_api_keys or ""
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return {name.strip(): key.strip() for name, key in pairs if name.strip() and key.strip()}


def integration(request: Request) -> Optional[str]:
    """The integration named by a valid key; every key is compared (constant time)."""
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    found = None
    for name, key in api_keys().items():
        if hmac.compare_digest(given.strip().encode(), key.encode()) and scheme.lower() == "bearer":
            found = name
    return found


def error(code: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": code}, status=status)


def parse(request: Request) -> tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(sender, message, metadata) of a well-formed body, or the error code."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        return None, "body_too_large"
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error for invalid JSON
        return None, "invalid_json"
    if not isinstance(body, dict):
        return None, "body_must_be_an_object"
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata", {})
    if not isinstance(sender, str) or not SENDER.fullmatch(sender):
        return None, "invalid_sender"
    if not isinstance(message, str):
        return None, "message_must_be_a_string"
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return None, "metadata_must_be_an_object"
    message_id = body.get("message_id")
    if message_id is not None and not (isinstance(message_id, str) and CLIENT_ID.fullmatch(message_id)):
        return None, "invalid_message_id"
    return {"sender": sender, "message": message, "metadata": metadata, "message_id": message_id}, None


class RestInput(InputChannel):
    """Named `rest`, at Rasa's usual address: /webhooks/rest/webhook."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("rest_integrations", __name__)

        @bp.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not environment().is_development and integration(request) is None:
                return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})
            body, problem = parse(request)
            if body is None:
                return error(problem or "invalid_body", 413 if problem == "body_too_large" else 400)
            conversation = conversation_id(body["sender"])
            locale = body["metadata"].get("locale")
            locale = locale[:16] if isinstance(locale, str) else None
            text, refused = await admit(conversation, body["message"], request.remote_addr or request.ip)
            if refused:
                language = await conversation_language(request.app, conversation, locale, body["message"])
                return response.json([{"recipient_id": conversation, "text": refusal(refused, language)}])
            metadata: Dict[str, Any] = {"locale": locale} if locale else {}
            customer = verified_token(body["metadata"].get("token"))
            if customer is not None:
                metadata.update(identity_metadata(customer.email, conversation, customer.expires))
            message_id = body["message_id"]

            async def handle() -> List[Dict[str, Any]]:
                collector = CollectingOutputChannel()
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        conversation,
                        input_channel=self.name(),
                        metadata=metadata,
                        message_id=message_id,
                    )
                )
                return collector.messages

            if message_id is None:
                return response.json(await handle())

            async def events_of() -> List[Dict[str, Any]]:
                tracker = await request.app.ctx.agent.processor.get_tracker(conversation)
                return [event.as_dict() for event in tracker.events]

            try:
                return response.json(await once(conversation, message_id, events_of, handle))
            except TimeoutError:
                return error("message_still_in_progress", 503)

        return bp
