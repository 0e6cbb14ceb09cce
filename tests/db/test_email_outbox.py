"""The email outbox delivered to a real SMTP server (aiosmtpd): once, in the reader's language, with the
facts; a server down then back gets each email once; a permanent refusal fails for good, visibly."""

from __future__ import annotations

import email
import email.policy
import socket
from datetime import datetime, timedelta, timezone
from email.message import Message
from typing import Iterator, List

import jinja2
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from support.billing.payment_retry import retry_payment
from support.billing.subscription_changes import keep_subscription, schedule_end
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.emails.render import render, template_names
from support.emails.smtp import smtp_settings
from support.emails.worker import deliver_due, message_id
from support.payments.sandbox import SandboxGateway
from tests.helpers.server import new_past_due_customer

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


class Mailbox:
    """aiosmtpd's handler: keeps every message it accepts; can refuse with a temporary or permanent code."""

    def __init__(self) -> None:
        self.messages: List[Message] = []
        self.refuse_with = ""

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A real SMTP server on a fixed port that can go down and come back (a new aiosmtpd controller each time)."""

    def __init__(self, box: Mailbox) -> None:
        self.box, self.port, self.controller = box, _free_port(), None

    def start(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mailbox() -> Iterator[tuple]:
    box = Mailbox()
    server = Server(box)
    server.start()
    try:
        yield box, server, smtp_settings(f"smtp://127.0.0.1:{server.port}")
    finally:
        server.stop()


def _parts(message: Message) -> dict:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def _outbox(engine) -> List[m.OutboxEmail]:
    with session_scope(engine) as session:
        rows = session.execute(select(m.OutboxEmail).order_by(m.OutboxEmail.id)).scalars().all()
        session.expunge_all()
        return rows


FULL = {
    "product_name": "Bitrix24",
    "support_url": "https://helpdesk.bitrix24.com",
    "portal": "acme.bitrix24.com",
    "to_email": "admin@acme.example",
    "plan": "Professional",
    "effective": "EFFECTIVE",
    "renews": "RENEWS",
    "renewed_until": "UNTIL",
    "amount": "AMOUNT",
    "invoice": "#7",
    "failed_attempts": "3",
    "lines": [{"number": "#1", "date": "D", "period": "P", "amount": "A", "status": "S"}],
    "requested_by": "admin@acme.example",
}


def test_every_email_exists_in_both_languages_and_a_missing_value_is_an_error() -> None:
    names = template_names()
    assert {"cancel_confirmation", "downgrade_confirmation", "reactivation_confirmation"} <= set(names)
    assert {"payment_receipt", "downgraded_to_free", "invoice_copies"} <= set(names)
    for name in names:
        for language in ("fr", "en"):
            rendered = render(name, language, FULL)
            assert rendered.subject and "{" not in rendered.text and "https://helpdesk.bitrix24.com" in rendered.html
            with pytest.raises(jinja2.UndefinedError):  # never a blank where a fact should be
                render(name, language, {})


@pytest.mark.parametrize("language, effective", [("fr", "31 juillet 2027"), ("en", "31 July 2027")])
def test_a_cancellation_email_leaves_once_in_the_admin_language(database_url, mailbox, language, effective) -> None:
    box, _, smtp = mailbox
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        assert schedule_end(session, "admin@globex.example", "cancel", "c-1", language, NOW).status == "done"
    assert deliver_due(engine, smtp, NOW).sent == 1
    assert deliver_due(engine, smtp, NOW + timedelta(minutes=5)).sent == 0  # once
    (message,) = box.messages
    parts = _parts(message)
    assert message["To"] == "admin@globex.example"
    assert message["Message-ID"] == message_id(_outbox(engine)[0].idempotency_key)
    for body in parts.values():
        assert "Standard" in body and effective in body.replace("\u202f", " ").replace("\u00a0", " ")
    assert "<p>" in parts["text/html"] and "globex.bitrix24.com" in parts["text/plain"]
    assert _outbox(engine)[0].sent_at is not None


def test_a_server_down_then_back_gets_each_email_once(database_url, mailbox) -> None:
    box, server, smtp = mailbox
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        schedule_end(session, "admin@globex.example", "cancel", "c-2", "en", NOW)
        keep_subscription(session, "admin@globex.example", "c-2", "en", NOW + timedelta(seconds=1))
    server.stop()  # down
    now = NOW
    for _ in range(3):
        report = deliver_due(engine, smtp, now)
        assert (report.sent, report.retrying, report.failed) == (0, 2, 0)
        now += timedelta(hours=1)
    assert all(row.last_error and row.sent_at is None for row in _outbox(engine))
    server.start()  # back
    assert deliver_due(engine, smtp, now).sent == 2
    assert deliver_due(engine, smtp, now + timedelta(hours=1)).sent == 0
    subjects = [message["Subject"] for message in box.messages]
    assert len(subjects) == 2 and len(set(subjects)) == 2
    assert len({message["Message-ID"] for message in box.messages}) == 2


def test_a_temporary_refusal_is_retried_with_backoff_and_a_permanent_one_fails_visibly(database_url, mailbox) -> None:
    box, _, smtp = mailbox
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        schedule_end(session, "admin@globex.example", "downgrade", "c-3", "fr", NOW)
    box.refuse_with = "451 try later"
    assert deliver_due(engine, smtp, NOW).retrying == 1
    (row,) = _outbox(engine)
    assert row.last_error == "SMTP 451" and m.utc(row.next_attempt_at) > NOW
    assert deliver_due(engine, smtp, NOW + timedelta(seconds=1)).retrying == 0  # not due yet
    box.refuse_with = "550 no such mailbox"
    assert deliver_due(engine, smtp, NOW + timedelta(hours=1)).failed == 1
    (row,) = _outbox(engine)
    assert row.failed_at is not None and row.last_error == "SMTP 550" and not box.messages
    assert deliver_due(engine, smtp, NOW + timedelta(days=1)).failed == 0  # failed for good: not tried again


def test_a_receipt_carries_the_amount_in_the_admin_language(database_url, mailbox) -> None:
    box, _, smtp = mailbox
    engine = engine_for(database_url)
    customer = new_past_due_customer(database_url, language="fr")
    outcome = retry_payment(engine, SandboxGateway(engine), customer, "c-4", None, NOW, 3)
    assert outcome.status == "succeeded"
    assert deliver_due(engine, smtp, NOW).sent == 1
    (message,) = box.messages
    text = _parts(message)["text/plain"].replace("\u202f", " ").replace("\u00a0", " ")
    assert message["To"] == customer and "€" in text and "," in text  # 49,00 € in French
