"""Linking a messenger user (Telegram, Messenger, Slack) to a customer with a one-time code.

1. The signed-in website asks for a code (`issue_code`): 6 characters from an alphabet without
   look-alikes (no 0/O, 1/I/L), valid 10 minutes, stored as its SHA-256 only. A new code replaces
   the customer's unused ones.
2. The customer sends the code to the bot on the messenger (`redeem_code`): in one transaction,
   the messenger user's failure counter and the code row are locked (SELECT ... FOR UPDATE on
   PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers), the code is checked (exists, unused,
   unexpired), used up and the link written, so two concurrent uses give exactly one link.
   Wrong codes count against the messenger user: MAX_FAILURES in a row within FAILURE_WINDOW lock
   them out for LOCKOUT, even with a right code.
3. `linked_email` says who a messenger user is; `unlink` forgets it.
Links and unlinks are written to the audit log.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from support.db import models as m
from support.db.engine import session_scope
from support.db.models import MessengerLink, MessengerLinkAttempts, MessengerLinkCode
from support.db.queries import audit
from support.vocabulary import Platform

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 6
CODE_TTL = timedelta(minutes=10)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
KEEP_OLD_CODES = timedelta(days=1)  # used or expired codes are deleted after this


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkOutcome:
    status: str  # linked, unknown, expired, used, locked
    email: Optional[str] = None
    retry_after: Optional[timedelta] = None  # locked: how long before trying again


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "ignore")).hexdigest()


def normalise_code(text: str) -> str:
    """'k7q-4m2 ' -> 'K7Q4M2' (spaces and dashes dropped, upper case)."""
    return re.sub(r"[\s\-]", "", text or "").upper()


def looks_like_code(text: str) -> bool:
    """A message that is a code on its own: 6 characters of the alphabet, with a digit and a letter
    (every issued code has both, so "thanks" or "123456" are never taken for one)."""
    code = normalise_code(text)
    return (
        len(code) == CODE_LENGTH
        and all(c in CODE_ALPHABET for c in code)
        and any(c.isdigit() for c in code)
        and any(c.isalpha() for c in code)
    )


def new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if looks_like_code(code):
            return code


def _user_key(platform: str, platform_user_id: str) -> tuple[str, str]:
    if platform not in {p.value for p in Platform}:
        raise ValueError(f"unknown platform {platform!r}")
    user = str(platform_user_id).strip()
    if not user or len(user) > 128:
        raise ValueError("invalid platform user id")
    return platform, user


def _account_id(session: Session, email: str) -> Optional[int]:
    return session.execute(select(m.User.account_id).where(m.User.email == email)).scalar_one_or_none()


def issue_code(session: Session, email: str, now: datetime) -> IssuedCode:
    """A fresh one-time code for a verified customer email; their earlier unused codes stop working."""
    email = email.strip().lower()
    session.execute(
        delete(MessengerLinkCode).where(MessengerLinkCode.email == email, MessengerLinkCode.used_at.is_(None))
    )
    session.execute(delete(MessengerLinkCode).where(MessengerLinkCode.expires_at < now - KEEP_OLD_CODES))
    code = new_code()
    expires = now + CODE_TTL
    session.add(MessengerLinkCode(code_hash=code_hash(code), email=email, created_at=now, expires_at=expires))
    session.flush()
    return IssuedCode(code, expires)


def _locked_attempts(session: Session, platform: str, user: str) -> Optional[MessengerLinkAttempts]:
    return session.execute(
        select(MessengerLinkAttempts)
        .where(MessengerLinkAttempts.platform == platform, MessengerLinkAttempts.platform_user_id == user)
        .with_for_update()
    ).scalar_one_or_none()


def _count_failure(
    session: Session, attempts: Optional[MessengerLinkAttempts], platform: str, user: str, now: datetime
) -> None:
    if attempts is None:
        attempts = MessengerLinkAttempts(platform=platform, platform_user_id=user, failures=0)
        session.add(attempts)
    if attempts.first_failure_at is None or m.utc(attempts.first_failure_at) <= now - FAILURE_WINDOW:
        attempts.failures, attempts.first_failure_at = 0, now
    attempts.failures += 1
    if attempts.failures >= MAX_FAILURES:
        attempts.failures, attempts.first_failure_at, attempts.locked_until = 0, None, now + LOCKOUT


def redeem_code(session: Session, platform: str, platform_user_id: str, code: str, now: datetime) -> LinkOutcome:
    """Links the messenger user to the code's customer if the code is good; see the module doc."""
    platform, user = _user_key(platform, platform_user_id)
    attempts = _locked_attempts(session, platform, user)
    if attempts is not None and attempts.locked_until is not None and m.utc(attempts.locked_until) > now:
        return LinkOutcome("locked", retry_after=m.utc(attempts.locked_until) - now)
    row = session.execute(
        select(MessengerLinkCode).where(MessengerLinkCode.code_hash == code_hash(code)).with_for_update()
    ).scalar_one_or_none()
    status = (
        "unknown"
        if row is None
        else "used"
        if row.used_at is not None
        else "expired"
        if m.utc(row.expires_at) <= now
        else "ok"
    )
    if status == "ok":
        # the row is locked, and the condition makes a second use impossible even without the lock
        taken = session.execute(
            update(MessengerLinkCode)
            .where(MessengerLinkCode.id == row.id, MessengerLinkCode.used_at.is_(None))
            .values(used_at=now, used_by=f"{platform}:{user}")
            .execution_options(synchronize_session=False)
        )
        status = "ok" if taken.rowcount == 1 else "used"
    if status != "ok":
        _count_failure(session, attempts, platform, user, now)
        return LinkOutcome(status)
    if attempts is not None:
        session.delete(attempts)
    link = session.execute(
        select(MessengerLink)
        .where(MessengerLink.platform == platform, MessengerLink.platform_user_id == user)
        .with_for_update()
    ).scalar_one_or_none()
    if link is None:
        session.add(MessengerLink(platform=platform, platform_user_id=user, email=row.email, linked_at=now))
    else:
        link.email, link.linked_at = row.email, now
    audit(
        session,
        row.email,
        _account_id(session, row.email),
        "messenger.linked",
        f"{platform}-{user}",
        {"platform": platform},
        now,
    )
    session.flush()
    return LinkOutcome("linked", email=row.email)


def link_with_code(engine: Engine, platform: str, platform_user_id: str, code: str, now: datetime) -> LinkOutcome:
    """`redeem_code` in its own transaction; retried once when a concurrent first write of the same
    messenger user's row (counter or link) won the race on PostgreSQL."""
    for attempt in range(2):
        try:
            with session_scope(engine) as session:
                return redeem_code(session, platform, platform_user_id, code, now)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def linked_email(session: Session, platform: str, platform_user_id: str) -> Optional[str]:
    platform, user = _user_key(platform, platform_user_id)
    return session.execute(
        select(MessengerLink.email).where(MessengerLink.platform == platform, MessengerLink.platform_user_id == user)
    ).scalar_one_or_none()


def unlink(session: Session, platform: str, platform_user_id: str, now: datetime) -> Optional[str]:
    """Forgets the link; the email it pointed to, or None if there was none."""
    platform, user = _user_key(platform, platform_user_id)
    link = session.execute(
        select(MessengerLink)
        .where(MessengerLink.platform == platform, MessengerLink.platform_user_id == user)
        .with_for_update()
    ).scalar_one_or_none()
    if link is None:
        return None
    email = link.email
    session.delete(link)
    audit(
        session,
        email,
        _account_id(session, email),
        "messenger.unlinked",
        f"{platform}-{user}",
        {"platform": platform},
        now,
    )
    return email
