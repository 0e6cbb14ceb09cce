"""Invoices, plan quotes and undoing a cancellation, on real SQLite and PostgreSQL with the demo data."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from support.billing.invoices import recent_attempts, recent_invoices, send_copies
from support.billing.plans import paid_plans, plan_named_in
from support.billing.subscription_changes import CANCEL, keep_subscription, schedule_end
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.vocabulary import Cycle, InvoiceStatus

NOW = datetime.now(timezone.utc)


def _account_id(session, portal: str) -> int:
    return session.execute(select(m.Account.id).where(m.Account.portal == portal)).scalar_one()


def _count(session, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    return session.execute(query).scalar_one()


def test_every_paid_period_has_its_invoice_and_failed_ones_carry_the_plan_price(database_url: str) -> None:
    with session_scope(engine_for(database_url)) as session:
        acme = recent_invoices(session, _account_id(session, "acme.bitrix24.com"))
        assert [line.status for line in acme] == [InvoiceStatus.OPEN] + [InvoiceStatus.PAID] * 5
        assert all(line.amount_minor == 19900 for line in acme)
        assert all(newer.issued > older.issued for newer, older in zip(acme, acme[1:]))
        initech = recent_invoices(session, _account_id(session, "initech.bitrix24.com"))
        assert initech[0].status == InvoiceStatus.VOID and initech[0].amount_minor == 4900  # Basic, not 0
        attempts = recent_attempts(session, _account_id(session, "initech.bitrix24.com"))
        assert [a.outcome for a in attempts[:3]] == ["failed"] * 3 and attempts[0].amount_minor == 4900


def test_invoice_copies_are_queued_once(database_url: str) -> None:
    url = database_url
    for expected in (True, False):
        with session_scope(engine_for(url)) as session:
            account = _account_id(session, "globex.bitrix24.com")
            invoices = recent_invoices(session, account)
            sent = send_copies(
                session, "admin@globex.example", account, "admin@globex.example", invoices, "c", "en", NOW
            )
            assert sent is expected
    with session_scope(engine_for(url)) as session:
        assert _count(session, m.OutboxEmail, template="invoice_copies") == 1
        assert _count(session, m.AuditLog, action="invoices.copy_sent") == 1


def test_a_scheduled_cancellation_can_be_undone_once(database_url: str) -> None:
    engine = engine_for(database_url)
    with session_scope(engine) as session:
        assert schedule_end(session, "admin@globex.example", CANCEL, "c", "en", NOW).status == "done"
    with session_scope(engine) as session:
        assert keep_subscription(session, "admin@globex.example", "c", "en", NOW).status == "done"
    with session_scope(engine) as session:
        assert keep_subscription(session, "admin@globex.example", "c", "en", NOW).status == "already"
        subscription = session.execute(
            select(m.Subscription).where(m.Subscription.account_id == _account_id(session, "globex.bitrix24.com"))
        ).scalar_one()
        assert not subscription.cancel_at_period_end and subscription.auto_renew and subscription.canceled_at is None
        assert _count(session, m.AuditLog, action="subscription.reactivate") == 1
        assert _count(session, m.OutboxEmail, template="reactivation_confirmation") == 1


def test_only_an_admin_with_a_paid_cloud_plan_can_undo(database_url: str) -> None:
    with session_scope(engine_for(database_url)) as session:
        member = keep_subscription(session, "member@acme.example", "c", "fr", NOW)
        assert member.status == "not_admin" and member.admin_email == "admin@acme.example"
        assert keep_subscription(session, "admin@initech.example", "c", "en", NOW).status == "not_allowed"
        assert keep_subscription(session, "admin@hooli.example", "c", "en", NOW).status == "not_allowed"
        assert keep_subscription(session, "nobody@example.com", "c", "en", NOW).status == "unknown_user"


def test_plans_are_quoted_from_the_database(database_url: str) -> None:
    with session_scope(engine_for(database_url)) as session:
        plans = paid_plans(session, Cycle.YEARLY)
    assert [(p.name, p.price_minor) for p in plans] == [
        ("Basic", 49000),
        ("Standard", 99000),
        ("Professional", 199000),
    ]
    assert plan_named_in("I want to upgrade to PROFESSIONAL please", plans).code == "professional"
    assert plan_named_in("passer au plan pro", plans).code == "professional"
    assert plan_named_in("standard or professional?", plans) is None
    assert plan_named_in("more users", plans) is None


def test_a_billing_dispute_ticket_carries_the_recent_invoices_and_attempts(database_url: str) -> None:
    from support.handoff.summary import infer_reason
    from support.handoff.tickets import open_ticket
    from support.handoff.transcript import HandoffRequest

    events = [
        {"event": "bot", "metadata": {"utter_action": "utter_cancel_done"}},
        {"event": "user", "parse_data": {"intent": {"name": "billing_dispute"}}},
        {"event": "bot", "metadata": {"utter_action": "utter_billing_dispute"}},
    ]
    reason = infer_reason(events)
    assert reason == "billing_dispute"  # the request itself, not the cancellation answered before
    request = HandoffRequest("d-1", "rest", "en", "admin@initech.example", reason, "billing_dispute", [])
    with session_scope(engine_for(database_url)) as session:
        ticket, _ = open_ticket(session, request, NOW)
        labels = [fact["label"] for fact in ticket.summary["facts"]]
        assert ticket.reason == "billing_dispute" and labels.count("Invoice") == 5
        attempts = [fact["value"] for fact in ticket.summary["facts"] if fact["label"] == "Payment attempt"]
        assert len(attempts) == 7 and "€49.00, failed (card limit reached)" in attempts[0]
    privacy = [{"event": "user", "parse_data": {"intent": {"name": "privacy_request"}}}]
    assert infer_reason(privacy) == "privacy_request"
