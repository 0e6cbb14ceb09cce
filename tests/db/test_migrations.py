"""The Alembic migrations build exactly the tables the models declare, and the database refuses values
outside each vocabulary (CHECK constraints), on real SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from support.db import models as m
from support.db.engine import engine_for, session_scope

VOCABULARY_COLUMNS = [
    (m.Subscription, "status"),
    (m.Subscription, "billing_cycle"),
    (m.Account, "edition"),
    (m.User, "role"),
    (m.Invoice, "status"),
    (m.PaymentAttempt, "outcome"),
    (m.PaymentAttempt, "failure_reason"),
    (m.PaymentAttempt, "triggered_by"),
]


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """Rasa's conversation store (`events`) shares PostgreSQL's database: it is Rasa's table, not ours."""
    table = obj if type_ == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) != "events"


def test_migrations_match_the_models(database_url: str) -> None:
    with engine_for(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _ours})
        differences = compare_metadata(context, m.Base.metadata)
    assert differences == []


def test_a_satisfaction_score_outside_1_to_5_or_an_unknown_trigger_is_refused(database_url: str) -> None:
    from datetime import datetime, timezone

    for score, trigger in ((6, "bot_end"), (0, "bot_end"), (3, "bogus")):
        with pytest.raises(IntegrityError):
            with session_scope(engine_for(database_url)) as session:
                session.add(
                    m.SatisfactionRating(
                        conversation_id="c",
                        channel="rest",
                        language="en",
                        trigger=trigger,
                        score=score,
                        answered_at=datetime.now(timezone.utc),
                    )
                )


def test_every_model_is_registered_in_one_metadata() -> None:
    assert set(m.Base.metadata.tables) == {
        "plans",
        "accounts",
        "users",
        "subscriptions",
        "payment_methods",
        "invoices",
        "payment_attempts",
        "telephony_balances",
        "audit_log",
        "outbox_emails",
        "sandbox_charges",
        "tickets",
        "ticket_messages",
        "helpdesk_deliveries",
        "helpdesk_inbound_events",
        "satisfaction_ratings",
        "messenger_link_codes",
        "messenger_links",
        "messenger_link_attempts",
    }


@pytest.mark.parametrize("model, column", VOCABULARY_COLUMNS, ids=lambda v: getattr(v, "__name__", v))
def test_the_database_refuses_a_value_outside_the_vocabulary(database_url: str, model, column: str) -> None:
    with pytest.raises(IntegrityError):
        with session_scope(engine_for(database_url)) as session:
            session.execute(update(model).values({column: "bogus"}))
