"""Messenger account links (SQLAlchemy 1.4, 2.0 style), in the subscription database's metadata.

A link says which customer (email, as the website's signed token named them) a messenger user is.
It is made only with a one-time code that the signed-in website handed out; codes are stored as
their SHA-256, never in clear. Times in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped

from support.db.models.base import Base, one_of
from support.vocabulary import Platform


class MessengerLinkCode(Base):
    __tablename__ = "messenger_link_codes"
    id: Mapped[int] = Column(Integer, primary_key=True)
    code_hash: Mapped[str] = Column(String(64), unique=True, nullable=False)  # sha256 hex of the code
    email: Mapped[str] = Column(String(255), nullable=False, index=True)
    created_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    expires_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    used_by: Mapped[Optional[str]] = Column(String(160))  # "<platform>:<platform user id>"


class MessengerLink(Base):
    __tablename__ = "messenger_links"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"), one_of("messenger_links", "platform", Platform))
    id: Mapped[int] = Column(Integer, primary_key=True)
    platform: Mapped[str] = Column(String(16), nullable=False)
    platform_user_id: Mapped[str] = Column(String(128), nullable=False)
    email: Mapped[str] = Column(String(255), nullable=False, index=True)
    linked_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False)


class MessengerLinkAttempts(Base):
    """Wrong codes in a row from one messenger user, and until when they are refused."""

    __tablename__ = "messenger_link_attempts"
    platform: Mapped[str] = Column(String(16), primary_key=True)
    platform_user_id: Mapped[str] = Column(String(128), primary_key=True)
    failures: Mapped[int] = Column(Integer, nullable=False, default=0)
    first_failure_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
    locked_until: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
