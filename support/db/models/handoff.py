"""Handoff to a person: tickets, their redacted transcript and the outbox towards the helpdesk.

Times in UTC. Vocabulary columns are checked by the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, relationship

from support.db.models.base import Base, one_of
from support.vocabulary import Author, HandoffReason, Resolution, TicketStatus


class Ticket(Base):
    """A conversation handed to a person: while it is not resolved, the bot stays silent."""

    __tablename__ = "tickets"
    __table_args__ = (
        one_of("tickets", "status", TicketStatus),
        one_of("tickets", "reason", HandoffReason),
        one_of("tickets", "resolution", Resolution),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    reference: Mapped[str] = Column(String(16), unique=True, nullable=False)  # HD-7K3Q9M
    conversation_id: Mapped[str] = Column(String(255), unique=True, nullable=False)  # one ticket per conversation
    channel: Mapped[str] = Column(String(32), nullable=False)
    account_id: Mapped[Optional[int]] = Column(ForeignKey("accounts.id"), index=True)
    user_email: Mapped[Optional[str]] = Column(String(255))  # from the verified token only
    language: Mapped[str] = Column(String(2), nullable=False)
    reason: Mapped[str] = Column(String(32), nullable=False)
    topic: Mapped[Optional[str]] = Column(String(64))
    summary: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    status: Mapped[str] = Column(String(16), nullable=False, default=TicketStatus.OPEN.value, index=True)
    assigned_to: Mapped[Optional[str]] = Column(String(64))
    resolution: Mapped[Optional[str]] = Column(String(16))
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    updated_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    resolved_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    # the helpdesk's own conversation id (Chatwoot mode), set when the ticket reaches it: inbound events find it
    helpdesk_conversation_id: Mapped[Optional[str]] = Column(String(64), index=True)
    messages = relationship("TicketMessage", back_populates="ticket", order_by="TicketMessage.id")


class TicketMessage(Base):
    """One line of a ticket's transcript, already redacted."""

    __tablename__ = "ticket_messages"
    __table_args__ = (UniqueConstraint("ticket_id", "source_key"), one_of("ticket_messages", "author", Author))
    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(ForeignKey("tickets.id"), nullable=False, index=True)
    at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    author: Mapped[str] = Column(String(16), nullable=False)
    agent: Mapped[Optional[str]] = Column(String(64))
    text: Mapped[str] = Column(String(4000), nullable=False)
    source_key: Mapped[Optional[str]] = Column(String(128))  # the tracker event it came from: never added twice
    ticket = relationship("Ticket", back_populates="messages")


class HelpdeskDelivery(Base):
    """The durable outbox towards the external helpdesk: delivered in order per ticket, retried with backoff."""

    __tablename__ = "helpdesk_deliveries"
    __table_args__ = (UniqueConstraint("idempotency_key"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    ticket_id: Mapped[int] = Column(ForeignKey("tickets.id"), nullable=False, index=True)
    kind: Mapped[str] = Column(String(32), nullable=False)  # ticket.created, message.created
    payload: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)
    idempotency_key: Mapped[str] = Column(String(128), nullable=False)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    attempts: Mapped[int] = Column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, index=True)
    delivered_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True), index=True)
    last_error: Mapped[Optional[str]] = Column(String(500))
    progress: Mapped[Dict[str, Any]] = Column(JSON, nullable=False, default=dict)  # steps done (Chatwoot mode)


class HelpdeskInboundEvent(Base):
    """An event the helpdesk sent us (an agent's reply, a status change), recorded once: a retry is a no-op."""

    __tablename__ = "helpdesk_inbound_events"
    __table_args__ = (UniqueConstraint("source", "event_id", name="uq_helpdesk_inbound_events_source"),)
    id: Mapped[int] = Column(Integer, primary_key=True)
    source: Mapped[str] = Column(String(16), nullable=False)  # chatwoot, generic
    event_id: Mapped[str] = Column(String(128), nullable=False)
    ticket_id: Mapped[Optional[int]] = Column(ForeignKey("tickets.id"))
    received_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
