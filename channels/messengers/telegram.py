"""Telegram channel (Bot API webhook): credentials.yml `channels.telegram.TelegramInput:`.

On when TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are set (credentials keys `bot_token`,
`webhook_secret`, `api_base` override them); TELEGRAM_API_BASE defaults to https://api.telegram.org.
Register the webhook with the same secret:
  setWebhook url=https://<host>/webhooks/telegram/webhook secret_token=$TELEGRAM_WEBHOOK_SECRET
POST /webhooks/telegram/webhook: the X-Telegram-Bot-Api-Secret-Token header must equal the secret
(constant-time), else 401 and nothing happens. Text messages and inline-keyboard clicks
(callback_query: the button's payload) are handled; a re-delivered update_id is answered but not
processed again. The conversation is "telegram-<chat id>"; the locale is the sender's language_code.
Replies: sendMessage (inline_keyboard for buttons) and answerCallbackQuery.
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
    not_configured,
    platform_call,
    telegram_secret_ok,
    unauthorized,
)

PLATFORM = "telegram"
DEFAULT_API_BASE = "https://api.telegram.org"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64  # bytes


@dataclass(frozen=True)
class TelegramConfig:
    bot_token: str = field(repr=False)  # secrets are never printed
    webhook_secret: str = field(repr=False)
    api_base: str = DEFAULT_API_BASE


def telegram_config(credentials: Optional[Dict[str, Any]]) -> Optional[TelegramConfig]:
    """The configuration from the environment (credentials values override), or None: channel off."""
    return read_config(
        "Telegram",
        TelegramConfig,
        credentials,
        {"bot_token": "TELEGRAM_BOT_TOKEN", "webhook_secret": "TELEGRAM_WEBHOOK_SECRET"},
        "TELEGRAM_API_BASE",
        DEFAULT_API_BASE,
    )


def callback_data(button: Dict[str, Any]) -> str:
    """The button's payload, or its title when the payload is over Telegram's 64 bytes."""
    payload = str(button.get("payload") or button.get("title") or "")
    if len(payload.encode("utf-8")) <= MAX_CALLBACK_DATA:
        return payload
    return str(button.get("title") or "").encode("utf-8")[:MAX_CALLBACK_DATA].decode("utf-8", "ignore")


class TelegramOutput(OutputChannel):
    """Sends to the chat named by the conversation id ("telegram-<chat id>")."""

    def __init__(self, config: TelegramConfig) -> None:
        self.config = config

    @classmethod
    def name(cls) -> str:
        return PLATFORM

    async def call(self, method: str, payload: Dict[str, Any]) -> Optional[Any]:
        return await platform_call(
            "Telegram",
            method,
            f"{self.config.api_base}/bot{self.config.bot_token}/{method}",
            secrets=[self.config.bot_token],
            json=payload,
        )

    async def _send(self, recipient_id: str, text: str, reply_markup: Optional[Dict[str, Any]] = None) -> None:
        chat = platform_recipient(PLATFORM, recipient_id)
        if chat is None:
            return
        parts = split_text(text, MAX_TEXT)
        for index, part in enumerate(parts):
            payload: Dict[str, Any] = {"chat_id": chat, "text": part}
            if reply_markup and index == len(parts) - 1:
                payload["reply_markup"] = reply_markup
            await self.call("sendMessage", payload)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send(recipient_id, text)

    async def send_agent_message(self, recipient_id: str, text: str, agent: str) -> bool:
        """A support agent's reply; True once Telegram accepted every part."""
        chat = platform_recipient(PLATFORM, recipient_id)
        return chat is not None and all(
            [
                await self.call("sendMessage", {"chat_id": chat, "text": part}) is not None
                for part in split_text(text, MAX_TEXT)
            ]
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        keyboard = [
            [{"text": str(button.get("title") or ""), "callback_data": callback_data(button)}] for button in buttons
        ]
        await self._send(recipient_id, text, {"inline_keyboard": keyboard} if keyboard else None)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        chat = platform_recipient(PLATFORM, recipient_id)
        if chat is not None:
            await self.call("sendPhoto", {"chat_id": chat, "photo": image})

    async def answer_callback_query(self, callback_query_id: str) -> None:
        await self.call("answerCallbackQuery", {"callback_query_id": callback_query_id})


class TelegramInput(MessengerInput):
    platform = PLATFORM
    config_reader = staticmethod(telegram_config)
    output_class = TelegramOutput

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = refuse_misshapen_payloads(Blueprint("messenger_telegram", __name__), "Telegram")

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if self.config is None:
                return not_configured()
            if not telegram_secret_ok(
                request.headers.get("X-Telegram-Bot-Api-Secret-Token"), self.config.webhook_secret
            ):
                return unauthorized()
            try:
                update = json.loads(request.body or b"")
            except ValueError:
                return response.json({"error": "invalid JSON"}, status=400)
            if not isinstance(update, dict):
                return response.json({"error": "invalid update"}, status=400)
            update_id = update.get("update_id")
            if not await self.deliveries.first_time(None if update_id is None else f"update:{update_id}"):
                return response.json({"ok": True, "duplicate": True})
            output = TelegramOutput(self.config)
            incoming = await self._incoming(update, output)
            if incoming is not None:
                # Telegram waits for the answer and sends one update at a time per connection: handled
                # before answering, so that the chat's messages keep their order
                await self.relay.handle(incoming, output, on_new_message, request.app)
            return response.json({"ok": True})

        return bp

    @staticmethod
    async def _incoming(update: Dict[str, Any], output: TelegramOutput) -> Optional[Incoming]:
        query = update.get("callback_query")
        if isinstance(query, dict):
            if query.get("id"):
                await output.answer_callback_query(str(query["id"]))  # stops the button's spinner
            message, user, text = query.get("message") or {}, query.get("from") or {}, query.get("data")
        else:
            message = update.get("message") or {}
            user, text = message.get("from") or {}, message.get("text")
        chat = message.get("chat") or {}
        if not isinstance(text, str) or not text.strip() or chat.get("id") is None or user.get("id") is None:
            return None  # stickers, photos, joins, edits... nothing to answer
        if user.get("is_bot"):
            return None
        if text.strip().split("@")[0] == "/start":
            text = "/greet"  # the first message of every Telegram chat
        return Incoming(
            PLATFORM,
            str(user["id"]),
            f"{PLATFORM}-{chat['id']}",
            text,
            locale=user.get("language_code"),
            private=chat.get("type") == "private",
            message_id=f"telegram-{update.get('update_id')}",
        )
