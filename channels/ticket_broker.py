"""The Rasa server's event broker: customer messages written while a person owns the conversation
(Rasa's ConversationPaused) go to the ticket, and from there to the helpdesk outbox; with RABBITMQ_URL every
event is also published to RabbitMQ by Rasa's own Pika broker (queue `assistant_events`), for the analytics
and any other consumer.

Rasa publishes every new tracker event here. Each user message is checked against the open tickets in the
database, on one background thread and in order (the event loop never waits for it): a conversation paused by
another replica is known here too.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional
from urllib.parse import unquote, urlsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import SQLAlchemyError

from support.clock import now_utc
from support.db.engine import session_scope
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
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-broker")

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[asyncio.AbstractEventLoop] = None
    ) -> TicketEventBroker:
        url = environment().rabbitmq_url
        stream = await PikaEventBroker.from_endpoint_config(rabbitmq_endpoint(url), event_loop) if url else None
        return cls(stream)

    def publish(self, event: Dict[str, Any]) -> None:
        if self.stream is not None:
            self.stream.publish(event)
        conversation = event.get("sender_id") or ""
        if event.get("event") == "user" and conversation:
            self.writer.submit(self._add, conversation, event)

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
