"""The one declarative base every table is registered in, and the helpers the models share."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Type

from sqlalchemy import CheckConstraint
from sqlalchemy.orm import declarative_base

from support.vocabulary import Vocabulary

Base = declarative_base()


def one_of(table: str, column: str, vocabulary: Type[Vocabulary]) -> CheckConstraint:
    """The database refuses a value outside the vocabulary (named as migration 0006 names it)."""
    values = ", ".join(repr(member.value) for member in vocabulary)
    return CheckConstraint(f"{column} IN ({values})", name=f"ck_{table}_{column}")


def utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes: every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
