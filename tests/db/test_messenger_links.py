"""Messenger account linking on real SQLite and PostgreSQL: one-time codes, one link per code."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from channels.linking import parse_command
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.db.models import MessengerLink, MessengerLinkCode
from support.messenger_links import (
    CODE_ALPHABET,
    CODE_TTL,
    LOCKOUT,
    MAX_FAILURES,
    issue_code,
    link_with_code,
    linked_email,
    looks_like_code,
    unlink,
)
from tests.helpers.concurrency import run_at_once

ADMIN = "admin@acme.example"


def _code(url: str, email: str = ADMIN, now=None):
    with session_scope(engine_for(url)) as session:
        return issue_code(session, email, now or now_utc())


def _link(url: str, user: str, code: str, now=None, platform: str = "telegram"):
    return link_with_code(engine_for(url), platform, user, code, now or now_utc())


def _linked(url: str, user: str, platform: str = "telegram"):
    with session_scope(engine_for(url)) as session:
        return linked_email(session, platform, user)


def test_a_code_links_once_and_only_once(database_url: str) -> None:
    issued = _code(database_url)
    assert len(issued.code) == 6 and set(issued.code) <= set(CODE_ALPHABET) and looks_like_code(issued.code)
    assert issued.expires_at - now_utc() <= CODE_TTL
    outcome = _link(database_url, "1001", issued.code.lower())  # typed in lower case: still the code
    assert (outcome.status, outcome.email) == ("linked", ADMIN)
    assert _linked(database_url, "1001") == ADMIN
    assert _link(database_url, "1001", issued.code).status == "used"
    assert _link(database_url, "2002", issued.code).status == "used"  # nor by anyone else
    assert _linked(database_url, "2002") is None
    assert _linked(database_url, "1001", platform="slack") is None  # a link is per platform
    with session_scope(engine_for(database_url)) as session:
        actions = session.execute(select(m.AuditLog.action).where(m.AuditLog.actor_email == ADMIN)).scalars().all()
    assert "messenger.linked" in actions


def test_an_expired_code_is_refused(database_url: str) -> None:
    issued = _code(database_url)
    assert _link(database_url, "1001", issued.code, now=issued.expires_at + timedelta(seconds=1)).status == "expired"
    assert _linked(database_url, "1001") is None
    assert _link(database_url, "1001", issued.code, now=issued.expires_at - timedelta(seconds=1)).status == "linked"


def test_a_new_code_replaces_the_unused_one(database_url: str) -> None:
    first, second = _code(database_url), _code(database_url)
    assert _link(database_url, "1001", first.code).status == "unknown"
    assert _link(database_url, "1001", second.code).status == "linked"


def test_codes_are_stored_hashed(database_url: str) -> None:
    issued = _code(database_url)
    with session_scope(engine_for(database_url)) as session:
        stored = session.execute(select(MessengerLinkCode)).scalars().all()
        dump = " ".join(
            str(value) for row in session.execute(text("SELECT * FROM messenger_link_codes")) for value in row
        )
    assert [row.code_hash for row in stored] == [hashlib.sha256(issued.code.encode()).hexdigest()]
    assert issued.code not in dump and issued.code.lower() not in dump


def test_eight_concurrent_uses_of_one_code_make_one_link(database_url: str) -> None:
    issued = _code(database_url)
    results, errors = run_at_once(lambda n: (f"user-{n}", _link(database_url, f"user-{n}", issued.code).status), 8)
    assert not errors
    outcomes = dict(results)
    assert sorted(outcomes.values()) == ["linked"] + ["used"] * 7, outcomes
    with session_scope(engine_for(database_url)) as session:
        links = session.execute(select(MessengerLink)).scalars().all()
        code = session.execute(select(MessengerLinkCode)).scalar_one()
    winner = next(user for user, status in outcomes.items() if status == "linked")
    assert [(link.platform_user_id, link.email) for link in links] == [(winner, ADMIN)]
    assert code.used_by == f"telegram:{winner}"


def test_unlink_forgets_the_link(database_url: str) -> None:
    _link(database_url, "1001", _code(database_url).code)
    with session_scope(engine_for(database_url)) as session:
        assert unlink(session, "telegram", "1001", now_utc()) == ADMIN
    assert _linked(database_url, "1001") is None
    with session_scope(engine_for(database_url)) as session:
        assert unlink(session, "telegram", "1001", now_utc()) is None  # nothing left to forget
    # linked again with a new code, to another customer this time
    assert _link(database_url, "1001", _code(database_url, "admin@globex.example").code).email == "admin@globex.example"


def test_wrong_codes_in_a_row_lock_the_messenger_user_out(database_url: str) -> None:
    now = now_utc()
    good = _code(database_url, now=now)
    for attempt in range(MAX_FAILURES):
        assert _link(database_url, "attacker", "ZZZZ22", now=now + timedelta(seconds=attempt)).status == "unknown"
    locked = _link(database_url, "attacker", good.code, now=now + timedelta(seconds=10))
    assert locked.status == "locked" and locked.retry_after and locked.retry_after <= LOCKOUT
    assert _link(database_url, "someone-else", "ZZZZ23", now=now).status == "unknown"  # others are not locked
    later = now + timedelta(seconds=10) + LOCKOUT
    fresh = _code(database_url, now=later)
    assert _link(database_url, "attacker", fresh.code, now=later).status == "linked"


def test_a_success_resets_the_wrong_code_count(database_url: str) -> None:
    now = now_utc()
    for _ in range(MAX_FAILURES - 1):
        _link(database_url, "1001", "ZZZZ22", now=now)
    assert _link(database_url, "1001", _code(database_url, now=now).code, now=now).status == "linked"
    for _ in range(MAX_FAILURES - 1):
        assert _link(database_url, "1001", "ZZZZ22", now=now).status == "unknown"
    assert _link(database_url, "1001", _code(database_url, now=now).code, now=now).status == "linked"


@pytest.mark.parametrize(
    "message, expected",
    [
        ("link K7Q4M2", ("link", "K7Q4M2")),
        ("lier k7q4m2", ("link", "K7Q4M2")),
        ("/link K7Q-4M2", ("link", "K7Q4M2")),
        ("K7Q4M2", ("link", "K7Q4M2")),
        (" k7q4m2 ", ("link", "K7Q4M2")),
        ("/start K7Q4M2", ("link", "K7Q4M2")),
        ("/link@SupportBot K7Q4M2", ("link", "K7Q4M2")),
        ("unlink", ("unlink", None)),
        ("délier", ("unlink", None)),
        ("Délier mon compte", ("unlink", None)),
        ("link", ("how_to", None)),
        ("lier mon compte", ("how_to", None)),
        ("thanks", None),
        ("merci!", None),
        ("123456", None),
        ("hello there", None),
        ("/start", None),
        ("link to the billing page please", None),
        ("why did my renewal fail?", None),
    ],
)
def test_link_commands_are_recognised(message: str, expected) -> None:
    command = parse_command(message)
    if expected is None:
        assert command is None
    else:
        assert (command.kind, command.code) == expected
