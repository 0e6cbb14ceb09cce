"""Messenger account linking, and the hand-off of every verified messenger message to Rasa.

- `LinkCodeInput` (credentials.yml: `channels.linking.LinkCodeInput:`) adds POST /link/code: the
  signed-in website sends the customer's JWT as `Authorization: Bearer ...` and gets a one-time
  code, valid 10 minutes, to send to the bot ("link K7Q4M2", "lier K7Q4M2", or the code alone).
- `Relay` is what the Telegram, Messenger and Slack channels do with a message once its signature
  is verified: link / unlink commands are answered here, in French or English, without going
  through Rasa (so a code never reaches the NLU or the tracker); any other message goes to Rasa with
  `metadata = {"identity": <the channel's attestation of the linked customer>, "locale": ...}` when the messenger
  user is linked and the conversation is private, or just the locale otherwise. Nothing the user
  types can change that metadata. Messages of one conversation are handled in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Coroutine, Dict, Optional, Set

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.exc import SQLAlchemyError

from channels.gate import admit, conversation_language, identity_metadata, refusal, stored_language
from support import i18n
from support.clock import now_utc
from support.db.engine import engine, session_scope
from support.identity import verified_token
from support.messenger_links import (
    CODE_TTL,
    LinkOutcome,
    issue_code,
    link_with_code,
    linked_email,
    looks_like_code,
    normalise_code,
    unlink,
)
from support.settings import InsecureConfiguration, product

logger = logging.getLogger(__name__)

PLATFORM_NAMES = {"telegram": "Telegram", "facebook": "Messenger", "slack": "Slack"}

# Every reply of the linking commands is in the message catalogue (support/i18n.py), under "link.".
OUTCOME_KEYS = {"unknown": "link.unknown", "expired": "link.expired", "used": "link.used"}

LINK_WORDS = {"link": "en", "lier": "fr", "start": None}  # /start CODE: Telegram's deep link t.me/<bot>?start=CODE
UNLINK_WORDS = {"unlink": "en", "délier": "fr", "delier": "fr"}
BARE_TAILS = {"": None, "account": "en", "my account": "en", "compte": "fr", "mon compte": "fr", "le compte": "fr"}
FRENCH_WORDS = {"lier", "délier", "delier", "mon", "compte", "bonjour", "merci", "le", "la", "code", "svp"}
ENGLISH_WORDS = {"link", "unlink", "my", "account", "hello", "hi", "thanks", "please", "the"}


@dataclass(frozen=True)
class Command:
    kind: str  # link, unlink, how_to
    code: Optional[str] = None
    language: Optional[str] = None  # what the command word says about the language


def parse_command(text: Optional[str]) -> Optional[Command]:
    """A linking command, or None for anything else (which goes to Rasa)."""
    stripped = (text or "").strip()
    if not stripped or len(stripped) > 64:
        return None
    match = re.fullmatch(r"/?([a-zé]+)(?:@\w+)?(?:\s+(.*))?", stripped.lower(), flags=re.S)
    if match:
        word, tail = match.group(1), (match.group(2) or "").strip().rstrip(".!")
        if word in UNLINK_WORDS and tail in BARE_TAILS:
            return Command("unlink", language=UNLINK_WORDS[word])
        if word in LINK_WORDS:
            candidate = normalise_code(tail)
            if re.fullmatch(r"[A-Z0-9]{6}", candidate):
                return Command("link", candidate, LINK_WORDS[word])
            if word != "start" and tail in BARE_TAILS:
                return Command("how_to", language=LINK_WORDS[word] or BARE_TAILS[tail])
            return None
    if looks_like_code(stripped):
        return Command("link", normalise_code(stripped))
    return None


def command_language(locale: Optional[str], text: str, hint: Optional[str] = None) -> str:
    """The platform locale first, then the message's words, then product.yml's default language."""
    code = (locale or "").lower()[:2]
    if code in ("fr", "en"):
        return code
    if hint:
        return hint
    words = set(re.findall(r"[a-zà-ÿ]+", (text or "").lower()))
    if words & FRENCH_WORDS:
        return "fr"
    if words & ENGLISH_WORDS:
        return "en"
    return product().default_language


def mask_email(email: str) -> str:
    """admin@acme.example -> a****@acme.example (enough to recognise, not to copy)."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}****@{domain}"


@dataclass(frozen=True)
class Incoming:
    """A verified messenger message, as every channel hands it over."""

    platform: str  # telegram, facebook, slack
    user_id: str  # the person on the platform (what a link is about)
    sender_id: str  # the conversation, prefixed by the platform ("telegram-<chat id>")
    text: str
    locale: Optional[str] = None
    private: bool = True  # a one-to-one conversation with the bot
    message_id: Optional[str] = None


def _linked_email(platform: str, user_id: str) -> Optional[str]:
    with session_scope() as session:
        return linked_email(session, platform, user_id)


def _unlink(platform: str, user_id: str) -> Optional[str]:
    with session_scope() as session:
        return unlink(session, platform, user_id, now_utc())


class Relay:
    """Link commands answered here; everything else handed to Rasa with the linked identity."""

    def __init__(self, input_channel: str) -> None:
        self.input_channel = input_channel
        self._tasks: Set[asyncio.Task] = set()
        self._turns: Dict[str, asyncio.Lock] = {}
        self._waiting: Dict[str, int] = {}

    def spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        """Runs `work` after the platform got its answer (kept referenced until it is done)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(
        self,
        incoming: Incoming,
        output: OutputChannel,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any = None,
    ) -> None:
        """One message; the messages of one conversation one after the other, in arrival order."""
        key = incoming.sender_id
        lock = self._turns.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await self._handle(incoming, output, on_new_message, app)
        except Exception:  # a broken message must not break the channel
            logger.exception("%s: message of %s not handled", incoming.platform, incoming.sender_id)
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key], self._turns[key]

    async def _handle(
        self,
        incoming: Incoming,
        output: OutputChannel,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        app: Any = None,
    ) -> None:
        command = parse_command(incoming.text)
        if command is not None:
            reply = await self.answer(command, incoming, app)
            await output.send_text_message(incoming.sender_id, reply)
            return
        text, refused = await admit(incoming.sender_id, incoming.text, f"{incoming.platform}:{incoming.user_id}")
        if refused:
            language = await conversation_language(app, incoming.sender_id, incoming.locale, incoming.text)
            await output.send_text_message(incoming.sender_id, refusal(refused, language))
            return
        metadata = await self.identity(incoming)
        message = UserMessage(
            text,
            output,
            incoming.sender_id,
            input_channel=self.input_channel,
            message_id=incoming.message_id,
            metadata=metadata,
        )
        await on_new_message(message)

    async def identity(self, incoming: Incoming) -> Dict[str, Any]:
        """The metadata Rasa gets: the locale, and the channel's attestation when the user is linked."""
        metadata: Dict[str, Any] = {}
        if incoming.locale:
            metadata["locale"] = incoming.locale
        if not incoming.private:
            return metadata  # account answers only in a one-to-one conversation
        try:
            email = await asyncio.to_thread(_linked_email, incoming.platform, incoming.user_id)
        except SQLAlchemyError as error:
            logger.warning(
                "%s: link lookup failed (%s); answering anonymously", incoming.platform, type(error).__name__
            )
            return metadata
        if email:
            try:
                metadata.update(identity_metadata(email, incoming.sender_id))
            except InsecureConfiguration as error:  # no channel secret: anonymous, never a crash
                logger.error("%s: no attestation for a linked user (%s)", incoming.platform, type(error).__name__)
        return metadata

    async def answer(self, command: Command, incoming: Incoming, app: Any = None) -> str:
        """The reply to a link command: in the platform's locale, else the command word's language ("lier"),
        else the conversation's, else the message's words."""
        hinted = incoming.locale or command.language
        language = (command_language(incoming.locale, "", command.language) if hinted else None) or (
            await stored_language(app, incoming.sender_id) or command_language(None, incoming.text)
        )
        platform = PLATFORM_NAMES[incoming.platform]
        if command.kind == "how_to":
            return i18n.text(language, "link.how_to", platform=platform)
        if not incoming.private:
            return i18n.text(language, "link.private_only")
        try:
            if command.kind == "unlink":
                email = await asyncio.to_thread(_unlink, incoming.platform, incoming.user_id)
                return (
                    i18n.text(language, "link.unlinked", platform=platform)
                    if email
                    else i18n.text(language, "link.not_linked", platform=platform)
                )
            outcome: LinkOutcome = await asyncio.to_thread(
                link_with_code, engine(), incoming.platform, incoming.user_id, command.code or "", now_utc()
            )
        except SQLAlchemyError as error:
            logger.warning("%s: linking unavailable (%s)", incoming.platform, type(error).__name__)
            return i18n.text(language, "link.unavailable")
        logger.info("%s: link attempt by %s: %s", incoming.platform, incoming.sender_id, outcome.status)
        if outcome.status == "linked":
            return i18n.text(language, "link.linked", platform=platform, email=mask_email(outcome.email or ""))
        if outcome.status == "locked":
            minutes = max(1, -(-int(outcome.retry_after.total_seconds()) // 60)) if outcome.retry_after else 15
            return i18n.plural(language, "link.locked", minutes)
        return i18n.text(language, OUTCOME_KEYS[outcome.status])


class LinkCodeInput(InputChannel):
    """POST /link/code: a one-time linking code for the customer whose JWT comes as a Bearer token."""

    @classmethod
    def name(cls) -> str:
        return "messenger_link"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def url_prefix(self) -> str:
        return "/link"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("messenger_link_code", __name__)

        @bp.route("/code", methods=["POST"])
        async def code(request: Request) -> HTTPResponse:
            scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
            customer = verified_token(token.strip()) if scheme.lower() == "bearer" else None
            email = customer.email if customer else None
            if email is None:
                return response.json({"error": "unauthorized"}, status=401, headers={"WWW-Authenticate": "Bearer"})

            def create() -> Any:
                with session_scope() as session:
                    return issue_code(session, email, now_utc())

            try:
                issued = await asyncio.to_thread(create)
            except SQLAlchemyError as error:
                logger.warning("link code not issued: database unavailable (%s)", type(error).__name__)
                return response.json({"error": "database_unavailable"}, status=503)
            return response.json(
                {
                    "code": issued.code,
                    "expires_at": issued.expires_at.isoformat(),
                    "expires_in": int(CODE_TTL.total_seconds()),
                },
                headers={"Cache-Control": "no-store"},
            )

        return bp


def split_text(text: str, limit: int) -> list:
    """A long reply cut into messages the platform accepts, at line or word ends where possible."""
    text, parts = text or "", []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return [*parts, text] if text or not parts else parts


def platform_recipient(platform: str, recipient_id: str) -> Optional[str]:
    """'telegram-12345' -> '12345' for the Telegram channel; None for another platform's conversation."""
    prefix = f"{platform}-"
    if not str(recipient_id).startswith(prefix) or len(str(recipient_id)) == len(prefix):
        logger.warning("%s: not a %s conversation, nothing sent", recipient_id, platform)
        return None
    return str(recipient_id)[len(prefix) :]
