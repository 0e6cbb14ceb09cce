"""What the bot tells about an account's emails, read from the outbox, and an admin's "send it again":
one more copy with its own Message-ID, never two for a double click, never another account's email."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from support.billing.subscription_changes import schedule_end
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.emails.status import FAILED, QUEUED, SENT, recent_emails, resend
from support.emails.worker import deliver_due, message_id
from tests.db.test_email_outbox import mailbox  # noqa: F401 - the real SMTP server fixture

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def _account(session, email: str) -> int:
    return session.execute(select(m.User.account_id).where(m.User.email == email)).scalar_one()


def test_the_outbox_tells_queued_then_sent_with_the_address_and_time(database_url, mailbox) -> None:  # noqa: F811
    box, _, smtp = mailbox
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        schedule_end(session, "admin@globex.example", "cancel", "c-1", "en", NOW)
        globex = _account(session, "admin@globex.example")
        (line,) = recent_emails(session, globex)
        assert (line.template, line.to, line.state, line.at) == (
            "cancel_confirmation",
            "admin@globex.example",
            QUEUED,
            NOW,
        )
        assert recent_emails(session, _account(session, "admin@acme.example")) == []  # another account's: none
    deliver_due(engine, smtp, NOW + timedelta(minutes=1))
    with session_scope(engine) as session:
        (line,) = recent_emails(session, globex)
        assert (line.state, line.at) == (SENT, NOW + timedelta(minutes=1))


def test_a_failed_email_is_sent_again_once_with_its_own_message_id(database_url, mailbox) -> None:  # noqa: F811
    box, _, smtp = mailbox
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        schedule_end(session, "admin@globex.example", "cancel", "c-2", "fr", NOW)
        globex = _account(session, "admin@globex.example")
    box.refuse_with = "550 mailbox unavailable"
    assert deliver_due(engine, smtp, NOW).failed == 1
    with session_scope(engine) as session:
        (failed,) = recent_emails(session, globex)
        assert failed.state == FAILED and "550" in (failed.last_error or "")
        first = resend(session, failed.id, globex, "admin@globex.example", "c-2", NOW + timedelta(hours=1))
        second = resend(session, failed.id, globex, "admin@globex.example", "c-2", NOW + timedelta(hours=1))
        assert first.result == "queued" and second.result == "already_queued"  # a double click: one copy
        assert first.email is not None and first.email.state == QUEUED and first.email.to == "admin@globex.example"
        audit = session.execute(select(m.AuditLog).where(m.AuditLog.action == "email.resend")).scalars().all()
        assert [entry.details for entry in audit] == [{"email": failed.id, "copy": 1}]
    box.refuse_with = ""
    assert deliver_due(engine, smtp, NOW + timedelta(hours=1)).sent == 1
    (message,) = box.messages
    with session_scope(engine) as session:
        rows = session.execute(select(m.OutboxEmail).order_by(m.OutboxEmail.id)).scalars().all()
        assert [row.resend_of for row in rows] == [None, rows[0].id]
        assert message["Message-ID"] == message_id(rows[1].idempotency_key) != message_id(rows[0].idempotency_key)
        assert "Standard" in message.get_body(preferencelist=("plain",)).get_content()  # the same facts, in French
        # once delivered, the admin may ask for yet another copy (a second, deliberate one)
        again = resend(session, rows[0].id, globex, "admin@globex.example", "c-2", NOW + timedelta(hours=2))
        assert again.result == "queued"


def test_an_email_of_another_account_is_never_found(database_url) -> None:
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        schedule_end(session, "admin@globex.example", "cancel", "c-3", "en", NOW)
        email_id = session.execute(select(m.OutboxEmail.id)).scalar_one()
        acme = _account(session, "admin@acme.example")
        assert resend(session, email_id, acme, "admin@acme.example", "c-3", NOW).result == "not_found"
        assert resend(session, 999_999, acme, "admin@acme.example", "c-3", NOW).result == "not_found"
        assert len(session.execute(select(m.OutboxEmail.id)).all()) == 1


def test_an_agent_sees_an_email_that_failed_for_good_in_the_ticket(database_url, monkeypatch) -> None:
    from support.db.queries import queue_email
    from support.handoff.desk import detail
    from tests.db.test_helpdesk_outbox import _ticket

    monkeypatch.setenv("HELPDESK_MODE", "off")
    engine = engine_for(database_url)
    reference = _ticket(engine, "emails-1", NOW)  # admin@acme.example's conversation
    with session_scope(engine) as session:
        acme = _account(session, "admin@acme.example")
        queue_email(session, acme, "admin@acme.example", "payment_receipt", "fr", {}, "receipt-x", NOW)
        row = session.execute(select(m.OutboxEmail)).scalar_one()
        row.failed_at, row.last_error = NOW, "SMTP 550"
    with session_scope(engine) as session:
        (shown,) = detail(session, reference, NOW)["emails"]
    assert shown == {
        "template": "payment_receipt",
        "to": "admin@acme.example",
        "state": "failed",
        "at": NOW.isoformat(),
        "last_error": "SMTP 550",
    }
