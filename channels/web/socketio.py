"""The chat widget's socket.io channel, with the conversation bound to who the customer is.

Rasa 3.6's own channel lets the client choose its session id and metadata. Here the server does:
- a signed-in customer connects with their JWT (auth.token); the conversation id is derived from
  the verified subject, so their reloads and tabs share one conversation and nobody else can
  reach it; every message carries the channel's attestation of that customer (never the token),
  whatever the client sends;
- an anonymous visitor gets a conversation id and a signed session token for it, which only
  that browser has; presenting it again continues the conversation (a reload);
- on connecting, the client receives `session_confirm` and the conversation's `history`;
- a message is cleaned, and refused when too long or over the rate limit (channels/gate.py).
Protocol details: README ("The chat widget").
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, List, Optional

import jwt
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer
from socketio.exceptions import ConnectionRefusedError as Refused

from channels.gate import admit, conversation_language, identity_metadata, refusal
from channels.message_ids import CLIENT_ID, once
from support.identity import jwt_secret, verified_token
from support.settings import InsecureConfiguration, environment

logger = logging.getLogger(__name__)

HISTORY_EVENTS = 200
ANONYMOUS_SESSION_DAYS = 30


def session_secret() -> bytes:
    """Signs anonymous session tokens and derives conversation ids (CHAT_SESSION_SECRET, else the JWT secret)."""
    secret = environment().chat_session_secret
    if not secret:
        try:
            secret = jwt_secret()
        except InsecureConfiguration:
            raise InsecureConfiguration("set CHAT_SESSION_SECRET (or AUTH_JWT_SECRET) in production") from None
    return hmac.new(secret.encode(), b"chat-session", hashlib.sha256).digest()


def customer_conversation(email: str) -> str:
    return "web-" + hmac.new(session_secret(), email.encode(), hashlib.sha256).hexdigest()[:32]


def anonymous_session() -> tuple[str, str]:
    conversation = "anon-" + uuid.uuid4().hex
    claims = {"sub": conversation, "exp": datetime.now(timezone.utc) + timedelta(days=ANONYMOUS_SESSION_DAYS)}
    return conversation, jwt.encode(claims, session_secret(), algorithm="HS256")


def anonymous_conversation(token: Any) -> Optional[str]:
    if not isinstance(token, str) or len(token) > 1024:
        return None
    try:
        subject = jwt.decode(token, session_secret(), algorithms=["HS256"], options={"require": ["sub", "exp"]})["sub"]
    except jwt.PyJWTError:
        return None
    return subject if isinstance(subject, str) and subject.startswith("anon-") else None


def history(events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The conversation as the widget shows it; a clicked button shows its title, not its payload."""
    messages: List[Dict[str, Any]] = []
    titles: Dict[str, str] = {}
    for event in events[-HISTORY_EVENTS:]:
        if event.get("event") == "user" and event.get("text"):
            text = event["text"]
            messages.append({"sender": "user", "text": titles.get(text, text), "id": event.get("message_id")})
        elif event.get("event") == "bot" and (event.get("text") or (event.get("data") or {}).get("buttons")):
            buttons = (event.get("data") or {}).get("buttons") or []
            titles = {b.get("payload"): b.get("title") for b in buttons if b.get("payload")}
            message = {"sender": "bot", "text": event.get("text") or ""}
            if buttons:
                message["buttons"] = [{"title": b.get("title"), "payload": b.get("payload")} for b in buttons]
            if (event.get("metadata") or {}).get("agent"):
                message["agent"] = event["metadata"]["agent"]
            messages.append(message)
    return messages


class ChatOutput(SocketIOOutput):
    async def send_agent_message(self, recipient_id: str, text: str, agent: str) -> bool:
        """A person's reply: the widget shows it as coming from them (and its history keeps it)."""
        await self._send_message(recipient_id, {"text": text, "agent": agent})
        return True


class AppAwareBlueprint(SocketBlueprint):
    """Remembers the Sanic app, whose Rasa agent holds the conversations (for the history)."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        self.ctx.app = app
        super().register(app, options)


class ChatInput(InputChannel):
    """Named `socketio` so that replies from the agent console find it as the conversation's channel."""

    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls()

    def __init__(self) -> None:
        self.sio: Optional[AsyncServer] = None
        self.blueprint_ref: Optional[AppAwareBlueprint] = None

    def get_output_channel(self) -> Optional[ChatOutput]:
        return ChatOutput(self.sio, "bot_uttered") if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # cors_allowed_origins=[]: Sanic's CORS (rasa run --cors) answers for socket.io as well
        # with REDIS_URL (several replicas), a message for a widget connected to another replica reaches it
        redis_url = environment().redis_url
        manager = AsyncRedisManager(redis_url, channel="assistant-socketio") if redis_url else None
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[], client_manager=manager)
        self.sio = sio
        bp = AppAwareBlueprint(sio, "/socket.io", "chat_socketio", __name__)
        self.blueprint_ref = bp

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: str, environ: Dict, auth: Optional[Dict] = None) -> bool:
            auth = auth if isinstance(auth, dict) else {}
            token = auth.get("token")
            locale = str(auth.get("locale") or "")[:16]
            session_token, customer = None, None
            if token:
                customer = verified_token(token)  # the token itself is kept nowhere
                if customer is None:
                    raise Refused("invalid_token")
                conversation = customer_conversation(customer.email)
            else:
                conversation = anonymous_conversation(auth.get("session"))
                if conversation is None:
                    conversation, session_token = anonymous_session()
            request = environ.get("sanic.request")
            session = {
                "conversation": conversation,
                "customer": customer,
                "locale": locale,
                "client": getattr(request, "remote_addr", None) or getattr(request, "ip", None),
            }
            await sio.save_session(sid, session)
            sio.enter_room(sid, conversation)
            sio.start_background_task(welcome, sid, conversation, session_token, customer is not None)
            return True

        async def welcome(sid: str, conversation: str, session_token: Optional[str], signed_in: bool) -> None:
            await sio.emit(
                "session_confirm",
                {"session_id": conversation, "session_token": session_token, "signed_in": signed_in},
                room=sid,
            )
            await sio.emit("history", {"messages": await self._history(conversation)}, room=sid)

        @sio.on("user_uttered")
        async def handle_message(sid: str, data: Any = None) -> None:
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                return  # malformed or empty: the widget never sends it, nothing to answer
            session = await sio.get_session(sid)
            conversation, customer = session["conversation"], session["customer"]
            cleaned, refused = await admit(conversation, text, session["client"])
            if refused:
                language = await conversation_language(self._app(), conversation, session["locale"], text)
                await sio.emit("bot_uttered", {"text": refusal(refused, language)}, room=sid)
                return
            metadata = {"locale": session["locale"]}
            if customer is not None and customer.expires > datetime.now(timezone.utc):
                metadata.update(identity_metadata(customer.email, conversation, customer.expires))
            message_id = data.get("message_id")
            message_id = message_id if isinstance(message_id, str) and CLIENT_ID.fullmatch(message_id) else None

            output = ChatOutput(sio, "bot_uttered")
            handled: List[bool] = []

            async def handle() -> List[Dict[str, Any]]:
                handled.append(True)
                await on_new_message(
                    UserMessage(
                        cleaned, output, conversation, input_channel=self.name(), metadata=metadata,
                        message_id=message_id,
                    )
                )  # fmt: skip
                return []  # the answer went to the conversation's room as it was made

            if message_id is None:
                await handle()
                return
            try:  # a copy of a message already handled (a widget reconnected) is not handled again...
                answer = await once(conversation, message_id, lambda: self._events(conversation), handle)
            except TimeoutError:  # ...and one still in progress elsewhere answers the room when it is done
                logger.warning("widget message %s of %s: still in progress elsewhere", message_id, conversation)
                return
            if not handled:  # its answer may have gone to a connection that died before the history showed it
                for message in answer:  # to this connection only: the others had it
                    await output.send_response(sid, {k: v for k, v in message.items() if k != "recipient_id"})

        return bp

    def _app(self) -> Optional[Sanic]:
        return getattr(self.blueprint_ref.ctx, "app", None) if self.blueprint_ref else None

    async def _events(self, conversation: str) -> List[Dict[str, Any]]:
        agent = getattr(getattr(self._app(), "ctx", None), "agent", None)
        if agent is None or agent.tracker_store is None:
            return []
        tracker = await agent.tracker_store.retrieve(conversation)
        return [event.as_dict() for event in tracker.events] if tracker else []

    async def _history(self, conversation: str) -> List[Dict[str, Any]]:
        return history(await self._events(conversation))
