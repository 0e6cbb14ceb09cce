"""An in-process event broker: customer messages written while a person owns the conversation
(Rasa's ConversationPaused) go to the ticket, and from there to the helpdesk outbox.

Rasa publishes every new tracker event here. The broker remembers which conversations are paused
(from the pause/resume events, and from the open tickets at start-up) and writes their user
messages on one background thread, in order, so the event loop never waits for the database.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional, Set

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.exc import SQLAlchemyError

from support.clock import now_utc
from support.db.engine import session_scope
from support.handoff.desk import active_conversations
from support.handoff.tickets import add_customer_message

logger = logging.getLogger(__name__)


class TicketEventBroker(EventBroker):
    def __init__(self) -> None:
        self.paused: Set[str] = set()
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ticket-broker")
        self.writer.submit(self._load_paused)

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[asyncio.AbstractEventLoop] = None
    ) -> TicketEventBroker:
        return cls()

    def _load_paused(self) -> None:
        try:
            with session_scope() as session:
                self.paused.update(active_conversations(session))
        except SQLAlchemyError as error:
            logger.warning("could not read the open tickets: %s", type(error).__name__)

    def publish(self, event: Dict[str, Any]) -> None:
        conversation = event.get("sender_id") or ""
        kind = event.get("event")
        if kind == "pause":
            self.paused.add(conversation)
        elif kind in ("resume", "restart"):
            self.paused.discard(conversation)
        elif kind == "user" and conversation in self.paused:
            self.writer.submit(self._add, conversation, event)

    @staticmethod
    def _add(conversation: str, event: Dict[str, Any]) -> None:
        try:
            with session_scope() as session:
                add_customer_message(session, conversation, event, now_utc())
        except SQLAlchemyError as error:  # still in the tracker: the agent sees it in the conversation
            logger.error("customer message not added to the ticket of %s: %s", conversation, type(error).__name__)

    async def close(self) -> None:
        self.writer.shutdown(wait=True)
