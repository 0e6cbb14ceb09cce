"""Customers' satisfaction answers: a score from 1 to 5, then an optional comment (redacted), once per session.

The question is asked after a person resolved the customer's ticket (pushed with the bot's resume message) and
when a conversation the bot handled alone ends (a goodbye or thanks after an answered topic, with no ticket in
the session), only on channels where the customer can answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from support.db import models as m
from support.redaction import PersonalDataRedactor
from support.text import clean_text
from support.vocabulary import RatingTrigger, TicketStatus

ANSWERING_CHANNELS = frozenset({"socketio", "rest", "telegram", "facebook", "slack"})
MAX_COMMENT = 1000
MAX_SCORE_WORDS = 8  # "5, you were great", "je vous mets 4": a score with a few words around it
# a digit from 1 to 5 on its own ("4", "4/5", "4 sur 5", "5 étoiles"), not part of a number or a quantity
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)
_OUT_OF_FIVE = re.compile(r"\s*(?:/|sur|out\s+of)\s*5\b", re.IGNORECASE)
_SCORE = re.compile(r"(?<![\d/.,])([1-5])(?!\d)(?![.,]\d)(?!\s*(?:users?|utilisateurs?|go|gb|€|eur|%))", re.IGNORECASE)


def score_in(entity: Optional[str], text: str) -> Optional[int]:
    """The score a button's entity or a typed message gives, or None."""
    if entity and str(entity).strip() in {"1", "2", "3", "4", "5"}:
        return int(str(entity).strip())
    if len((text or "").split()) > MAX_SCORE_WORDS:
        return None
    stars = "".join((text or "").split()).replace("\ufe0f", "")
    if stars and len(stars) <= 5 and set(stars) <= {"⭐", "★"}:
        return len(stars)
    text = _NUMBER_WORD.sub(lambda word: str(NUMBER_WORDS[word.group(1).lower()]), text or "")
    text = _OUT_OF_FIVE.sub(" ", text)
    scores = {int(found) for found in _SCORE.findall(text)}
    return scores.pop() if len(scores) == 1 else None


def record_rating(
    session: Session, conversation_id: str, channel: str, language: str, trigger: str, score: int, now: datetime
) -> m.SatisfactionRating:
    ticket = None
    if trigger == RatingTrigger.RESOLVED:
        ticket = session.execute(
            select(m.Ticket)
            .where(m.Ticket.conversation_id == conversation_id, m.Ticket.status == TicketStatus.RESOLVED)
            .order_by(m.Ticket.resolved_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    rating = m.SatisfactionRating(
        conversation_id=conversation_id,
        channel=channel[:32],
        language=language[:2],
        trigger=RatingTrigger(trigger).value,
        ticket_id=ticket.id if ticket else None,
        account_id=ticket.account_id if ticket else None,
        score=score,
        answered_at=now,
    )
    session.add(rating)
    session.flush()
    return rating


def add_comment(session: Session, conversation_id: str, text: str, now: datetime) -> bool:
    """The comment on the conversation's latest rating, card data and contact details removed."""
    rating = session.execute(
        select(m.SatisfactionRating)
        .where(m.SatisfactionRating.conversation_id == conversation_id)
        .order_by(m.SatisfactionRating.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    comment = PersonalDataRedactor(use_spacy=False).redact(clean_text(text or "")).strip()[:MAX_COMMENT]
    if rating is None or not comment:
        return False
    rating.comment, rating.commented_at = comment, now
    return True
