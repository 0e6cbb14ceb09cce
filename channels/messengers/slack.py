"""Slack channel (Events API and interactivity): credentials.yml `channels.slack.SlackInput:`.

On when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set (credentials keys `bot_token`,
`signing_secret`, `api_base` override them); SLACK_API_BASE defaults to https://slack.com/api.
Event Subscriptions URL: /webhooks/slack/webhook (message.im and app_mention events; the
url_verification challenge is answered). Interactivity URL: /webhooks/slack/interactive (button
clicks, block_actions). Both require X-Slack-Signature = "v0=" + HMAC-SHA256(signing secret,
"v0:{X-Slack-Request-Timestamp}:{raw body}") (constant-time) and a timestamp within 5 minutes,
else 401 and nothing happens. The 200 goes back at once and the message is handled afterwards;
a re-delivered event_id (Slack's retries, X-Slack-Retry-Num) is not processed again; messages of
bots (bot_id) and message subtypes (edits, joins, the bot's own posts) are ignored, so the bot never
answers itself. The conversation is "slack-<user id>"; replies go where the message came from
(chat.postMessage with the bot token; buttons as an actions block whose button values are the
payloads), and to the user's direct messages when only the conversation id is known.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import parse_qs

from rasa.core.channels.channel import OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.linking import Incoming, platform_recipient, split_text
from channels.messengers.base import MessengerInput, read_config, refuse_misshapen_payloads
from channels.messengers.signatures import (
    not_configured,
    platform_call,
    slack_signature_ok,
    unauthorized,
)

logger = logging.getLogger(__name__)

PLATFORM = "slack"
DEFAULT_API_BASE = "https://slack.com/api"
MAX_SECTION_TEXT = 3000
MAX_BUTTONS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = field(repr=False)  # secrets are never printed
    signing_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE


def slack_config(credentials: Optional[Dict[str, Any]]) -> Optional[SlackConfig]:
    """The configuration from the environment (credentials values override), or None: channel off."""
    return read_config(
        "Slack",
        SlackConfig,
        credentials,
        {"bot_token": "SLACK_BOT_TOKEN", "signing_secret": "SLACK_SIGNING_SECRET"},
        "SLACK_API_BASE",
        DEFAULT_API_BASE,
    )


def button_blocks(text: str, buttons: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    blocks: List[Dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": part}}
        for part in split_text(text, MAX_SECTION_TEXT)
        if part
    ]
    elements = [
        {
            "type": "button",
            "action_id": f"button_{index}",
            "text": {
                "type": "plain_text",
                "text": str(button.get("title") or "")[:MAX_BUTTON_TEXT] or "…",
                "emoji": True,
            },
            "value": str(button.get("payload") or button.get("title") or "")[:MAX_BUTTON_VALUE],
        }
        for index, button in enumerate(buttons[:MAX_BUTTONS])
    ]
    if elements:
        blocks.append({"type": "actions", "elements": elements})
    return blocks


class SlackOutput(OutputChannel):
    """Posts into `channel` (where the message came from), else into the user's direct messages."""

    def __init__(self, config: SlackConfig, channel: Optional[str] = None) -> None:
        self.config = config
        self.channel = channel

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    def _destination(self, recipient_id: str) -> Optional[str]:
        return self.channel or platform_recipient(PLATFORM, recipient_id)

    async def _post(self, payload: Dict[str, Any]) -> bool:
        answer = await platform_call(
            "Slack",
            "chat.postMessage",
            f"{self.config.api_base}/chat.postMessage",
            secrets=[self.config.bot_token],
            json=payload,
            headers={
                "Authorization": f"Bearer {self.config.bot_token}",
                "Content-Type": "application/json; charset=utf-8",
            },
        )
        return answer is not None

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        channel = self._destination(recipient_id)
        if channel is not None:
            await self._post({"channel": channel, "text": text})

    async def send_agent_message(self, recipient_id: str, text: str, agent: str) -> bool:
        """A support agent's reply; True once Slack accepted it."""
        channel = self._destination(recipient_id)
        return channel is not None and await self._post({"channel": channel, "text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        channel = self._destination(recipient_id)
        if channel is not None:
            await self._post({"channel": channel, "text": text, "blocks": button_blocks(text, buttons)})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        channel = self._destination(recipient_id)
        if channel is not None:
            await self._post(
                {
                    "channel": channel,
                    "text": image,
                    "blocks": [{"type": "image", "image_url": image, "alt_text": "image"}],
                }
            )


class SlackInput(MessengerInput):
    platform = PLATFORM
    config_reader = staticmethod(slack_config)
    output_class = SlackOutput

    def _verified(self, request: Request) -> bool:
        assert self.config is not None
        return slack_signature_ok(
            request.body or b"",
            request.headers.get("X-Slack-Request-Timestamp"),
            request.headers.get("X-Slack-Signature"),
            self.config.signing_secret,
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = refuse_misshapen_payloads(Blueprint("messenger_slack", __name__), "Slack")

        @bp.route("/webhook", methods=["POST"])
        async def events(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured()
            if not self._verified(request):
                return unauthorized()
            try:
                body = json.loads(request.body or b"")
            except ValueError:
                return response.json({"error": "invalid JSON"}, status=400)
            if not isinstance(body, dict):
                return response.json({"error": "invalid event"}, status=400)
            if body.get("type") == "url_verification":
                return response.json({"challenge": body.get("challenge")})
            if body.get("type") != "event_callback":
                return response.text("")
            event_id = body.get("event_id")
            if not await self.deliveries.first_time(f"event:{event_id}" if event_id else None):
                logger.info(
                    "slack: event delivered again (retry %s), already taken", request.headers.get("X-Slack-Retry-Num")
                )
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            incoming, channel = self._from_event(body.get("event") or {}, str(event_id or ""))
            if incoming is not None:
                self.relay.spawn(
                    self.relay.handle(incoming, SlackOutput(self.config, channel), on_new_message, request.app)
                )
            return response.text("")

        @bp.route("/interactive", methods=["POST"])
        async def interactive(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured()
            if not self._verified(request):
                return unauthorized()
            try:
                form = parse_qs((request.body or b"").decode("utf-8"))
                payload = json.loads(form.get("payload", [""])[0])
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "invalid payload"}, status=400)
            if not isinstance(payload, dict) or payload.get("type") != "block_actions":
                return response.text("")
            user = str((payload.get("user") or {}).get("id") or "")
            channel = str((payload.get("channel") or {}).get("id") or "") or None
            for action in payload.get("actions") or []:
                value = action.get("value") if isinstance(action, dict) else None
                if not user or not isinstance(value, str) or not value.strip():
                    continue
                key = f"action:{user}:{action.get('action_ts')}:{action.get('action_id')}"
                if not await self.deliveries.first_time(key):
                    continue
                incoming = Incoming(
                    PLATFORM,
                    user,
                    f"{PLATFORM}-{user}",
                    value,
                    locale=None,
                    private=bool(channel and channel.startswith("D")),
                    message_id=None,
                )
                self.relay.spawn(
                    self.relay.handle(incoming, SlackOutput(self.config, channel), on_new_message, request.app)
                )
            return response.text("")

        return bp

    @staticmethod
    def _from_event(event: Dict[str, Any], event_id: str) -> tuple[Optional[Incoming], Optional[str]]:
        kind, user, channel = event.get("type"), event.get("user"), event.get("channel")
        if event.get("bot_id") or event.get("subtype") or not user or not channel:
            return None, None  # bots (our own replies included), edits, joins...
        if kind == "message" and event.get("channel_type") == "im":
            private = True
        elif kind == "app_mention":
            private = False  # a channel: everyone there reads the answer
        else:
            return None, None  # channel messages without a mention come again as app_mention
        text = MENTION.sub("", str(event.get("text") or "")).strip()
        if not text:
            return None, None
        return Incoming(
            PLATFORM,
            str(user),
            f"{PLATFORM}-{user}",
            text,
            locale=None,
            private=private,
            message_id=f"slack-{event_id}" if event_id else None,
        ), str(channel)
