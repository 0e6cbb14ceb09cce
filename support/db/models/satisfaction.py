"""Customers' satisfaction answers (1 to 5, then an optional comment, already redacted). Times in UTC."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped

from support.db.models.base import Base, one_of
from support.vocabulary import RatingTrigger


class SatisfactionRating(Base):
    __tablename__ = "satisfaction_ratings"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_ratings_score"),
        one_of("satisfaction_ratings", "trigger", RatingTrigger),
    )
    id: Mapped[int] = Column(Integer, primary_key=True)
    conversation_id: Mapped[str] = Column(String(255), nullable=False, index=True)
    channel: Mapped[str] = Column(String(32), nullable=False)
    language: Mapped[str] = Column(String(2), nullable=False)
    trigger: Mapped[str] = Column(String(16), nullable=False)
    ticket_id: Mapped[Optional[int]] = Column(ForeignKey("tickets.id"))
    account_id: Mapped[Optional[int]] = Column(ForeignKey("accounts.id"))
    score: Mapped[int] = Column(Integer, nullable=False)
    comment: Mapped[Optional[str]] = Column(String(1000))
    answered_at: Mapped[datetime] = Column(DateTime(timezone=True), nullable=False, index=True)
    commented_at: Mapped[Optional[datetime]] = Column(DateTime(timezone=True))
