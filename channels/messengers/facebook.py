"""Facebook Messenger channel (Messenger Platform webhook): credentials.yml `channels.facebook.FacebookInput:`.

On when FACEBOOK_PAGE_ACCESS_TOKEN, FACEBOOK_APP_SECRET and FACEBOOK_VERIFY_TOKEN are set
(credentials keys `page_access_token`, `app_secret`, `verify_token`, `api_base` override them);
FACEBOOK_API_BASE defaults to https://graph.facebook.com/v19.0.
GET /webhooks/facebook/webhook: the subscription check (hub.mode=subscribe, hub.verify_token compared
in constant time) answers hub.challenge. POST /webhooks/facebook/webhook: X-Hub-Signature-256 must
be "sha256=" + HMAC-SHA256(app secret, raw body) (constant-time), else 401 and nothing happens.
Text messages, quick-reply payloads and postbacks are handled after the 200 (Messenger wants a quick
answer); a re-delivered message id (mid) is not processed again; echoes, deliveries and reads are
ignored. The conversation is "facebook-<PSID>". Replies: POST {base}/me/messages, quick_replies for
buttons (titles cut to Messenger's 20 characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.linking import Incoming, platform_recipient, split_text
from channels.messengers.base import MessengerInput, read_config, refuse_misshapen_payloads
from channels.messengers.signatures import (
    facebook_signature_ok,
    not_configured,
    platform_call,
    same_secret,
    unauthorized,
)

PLATFORM = "facebook"
DEFAULT_API_BASE = "https://graph.facebook.com/v19.0"
MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20
MAX_PAYLOAD = 1000


@dataclass(frozen=True)
class FacebookConfig:
    page_access_token: str = field(repr=False)  # secrets are never printed
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE


def facebook_config(credentials: Optional[Dict[str, Any]]) -> Optional[FacebookConfig]:
    """The configuration from the environment (credentials values override), or None: channel off."""
    return read_config(
        "Facebook",
        FacebookConfig,
        credentials,
        {
            "page_access_token": "FACEBOOK_PAGE_ACCESS_TOKEN",
            "app_secret": "FACEBOOK_APP_SECRET",
            "verify_token": "FACEBOOK_VERIFY_TOKEN",
        },
        "FACEBOOK_API_BASE",
        DEFAULT_API_BASE,
    )


def quick_reply(button: Dict[str, Any]) -> Dict[str, Any]:
    title = str(button.get("title") or "")
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rstrip() + "…"
    return {
        "content_type": "text",
        "title": title,
        "payload": str(button.get("payload") or button.get("title") or "")[:MAX_PAYLOAD],
    }


class FacebookOutput(OutputChannel):
    """Sends to the person named by the conversation id ("facebook-<PSID>")."""

    def __init__(self, config: FacebookConfig) -> None:
        self.config = config

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def _post(self, psid: str, message: Dict[str, Any], by_person: bool = False) -> bool:
        # a person's reply may come after Messenger's 24-hour window: the HUMAN_AGENT tag allows 7 days
        kind = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"} if by_person else {"messaging_type": "RESPONSE"}
        answer = await platform_call(
            "Messenger",
            "me/messages",
            f"{self.config.api_base}/me/messages",
            secrets=[self.config.page_access_token],
            params={"access_token": self.config.page_access_token},
            json={"recipient": {"id": psid}, **kind, "message": message},
        )
        return answer is not None

    async def _send(self, recipient_id: str, text: str, quick_replies: Optional[List[Dict[str, Any]]] = None) -> None:
        psid = platform_recipient(PLATFORM, recipient_id)
        if psid is None:
            return
        parts = split_text(text, MAX_TEXT)
        for index, part in enumerate(parts):
            message: Dict[str, Any] = {"text": part}
            if quick_replies and index == len(parts) - 1:
                message["quick_replies"] = quick_replies[:MAX_QUICK_REPLIES]
            await self._post(psid, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_agent_message(self, recipient_id: str, text: str, agent: str) -> bool:
        """A support agent's reply; True once Messenger accepted every part."""
        psid = platform_recipient(PLATFORM, recipient_id)
        return psid is not None and all(
            [await self._post(psid, {"text": part}, by_person=True) for part in split_text(text, MAX_TEXT)]
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send(recipient_id, text, [quick_reply(button) for button in buttons])

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        psid = platform_recipient(PLATFORM, recipient_id)
        if psid is not None:
            await self._post(psid, {"attachment": {"type": "image", "payload": {"url": image, "is_reusable": True}}})


class FacebookInput(MessengerInput):
    platform = PLATFORM
    config_reader = staticmethod(facebook_config)
    output_class = FacebookOutput

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = refuse_misshapen_payloads(Blueprint("messenger_facebook", __name__), "Messenger")

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured()
            if request.args.get("hub.mode") == "subscribe" and same_secret(
                request.args.get("hub.verify_token"), self.config.verify_token
            ):
                return response.text(request.args.get("hub.challenge") or "")
            return response.json({"error": "verification failed"}, status=403)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured()
            raw = request.body or b""
            if not facebook_signature_ok(raw, request.headers.get("X-Hub-Signature-256"), self.config.app_secret):
                return unauthorized()
            try:
                body = json.loads(raw)
            except ValueError:
                return response.json({"error": "invalid JSON"}, status=400)
            if not isinstance(body, dict) or body.get("object") != "page":
                return response.json({"error": "not a page event"}, status=404)
            output = FacebookOutput(self.config)
            for entry in body.get("entry") or []:
                for event in (entry or {}).get("messaging") or []:
                    incoming = self._incoming(event)
                    if incoming is not None and await self.deliveries.first_time(incoming.message_id):
                        self.relay.spawn(self.relay.handle(incoming, output, on_new_message, request.app))
            return response.text("EVENT_RECEIVED")

        return bp

    @staticmethod
    def _incoming(event: Dict[str, Any]) -> Optional[Incoming]:
        psid = str((event.get("sender") or {}).get("id") or "")
        if not psid:
            return None
        message, postback = event.get("message"), event.get("postback")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return None  # the page's own messages
            text = (message.get("quick_reply") or {}).get("payload") or message.get("text")
            mid = message.get("mid")
        elif isinstance(postback, dict):
            text = postback.get("payload") or postback.get("title")
            mid = postback.get("mid") or f"postback-{psid}-{event.get('timestamp')}"
        else:
            return None  # deliveries, reads, reactions...
        if not isinstance(text, str) or not text.strip():
            return None  # stickers, images
        return Incoming(
            PLATFORM, psid, f"{PLATFORM}-{psid}", text, locale=None, private=True, message_id=str(mid) if mid else None
        )
