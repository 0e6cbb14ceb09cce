"""The Rasa server's event broker: customer messages written while a person owns the conversation
(Rasa's ConversationPaused) go to the ticket, and from there to the helpdesk outbox; with RABBITMQ_URL every
event is also published to RabbitMQ by Rasa's own Pika broker (queue `assistant_events`), for the analytics
and any other consumer.

Rasa publishes every new tracker event here. The broker remembers which conversations are paused (from the
pause/resume events, and from the open tickets at start-up) and writes their user messages on one background
thread, in order, so the event loop never waits for the database. With replicas (REDIS_URL), a conversation
may have been paused by another replica: a user message of a conversation this one does not know as paused is
checked against the open tickets in the database (on the same thread).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Set
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import SQLAlchemyError

from support.clock import now_utc
from support.db.engine import session_scope
from support.handoff.desk import active_conversations
from support.handoff.tickets import add_customer_message
from support.settings import environment

logger = logging.getLogger(__name__)


QUEUE = "assistant_events"


def rabbitmq_endpoint(url: str) -> EndpointConfig:
    """Rasa's Pika broker settings from an amqp:// URL."""
    parts = urlsplit(url)
    return EndpointConfig(
        url=parts.hostname or "localhost",
        port=parts.port or 5672,
        username=unquote(parts.username or "guest"),
        password=unquote(parts.password or "guest"),
        queues=[QUEUE],
        raise_on_failure=False,
    )


class TicketEventBroker(EventBroker):
    def __init__(self, stream: Optional[EventBroker] = None) -> None:
        self.stream = stream  # RabbitMQ, when configured
        self.paused: Set[str] = set()
        self.shared = bool(environment().redis_url)  # several replicas: another one may have paused it
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-broker")
        self.writer.submit(self._load_paused)

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[asyncio.AbstractEventLoop] = None
    ) -> TicketEventBroker:
        url = environment().rabbitmq_url
        stream = await PikaEventBroker.from_endpoint_config(rabbitmq_endpoint(url), event_loop) if url else None
        return cls(stream)

    def _load_paused(self) -> None:
        try:
            with session_scope() as session:
                self.paused.update(active_conversations(session))
        except SQLAlchemyError as error:
            logger.warning("could not read the open tickets: %s", type(error).__name__)

    def publish(self, event: Dict[str, Any]) -> None:
        if self.stream is not None:
            self.stream.publish(event)
        conversation = event.get("sender_id") or ""
        kind = event.get("event")
        if kind == "pause":
            self.paused.add(conversation)
        elif kind in ("resume", "restart"):
            self.paused.discard(conversation)
        elif kind == "user" and conversation in self.paused:
            self.writer.submit(self._add, conversation, event)
        elif kind == "user" and conversation and self.shared:
            self.writer.submit(self._add_if_paused_elsewhere, conversation, event)

    @staticmethod
    def _add_if_paused_elsewhere(conversation: str, event: Dict[str, Any]) -> None:
        try:
            with session_scope() as session:
                add_customer_message(session, conversation, event, now_utc())  # only with an open ticket
        except SQLAlchemyError as error:  # not known as paused here: most likely it is not
            logger.warning("could not check the tickets of %s: %s", conversation, type(error).__name__)

    def is_ready(self) -> bool:
        return self.stream.is_ready() if self.stream is not None else True

    @staticmethod
    def _add(conversation: str, event: Dict[str, Any]) -> None:
        try:
            with session_scope() as session:
                add_customer_message(session, conversation, event, now_utc())
        except SQLAlchemyError as error:  # still in the tracker: the agent sees it in the conversation
            logger.error("customer message not added to the ticket of %s: %s", conversation, type(error).__name__)

    async def close(self) -> None:
        self.writer.shutdown(wait=True)
        if self.stream is not None:
            await self.stream.close()
