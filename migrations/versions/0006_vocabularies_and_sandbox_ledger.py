"""CHECK constraints on every vocabulary column; the sandbox gateway's ledger of idempotency keys

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The values as support/vocabulary.py had them when this migration was written (a migration never changes).
CHECKS = {
    "accounts": {"edition": ("cloud", "on_premise")},
    "users": {"role": ("admin", "member")},
    "subscriptions": {"status": ("active", "past_due", "canceled", "free"), "billing_cycle": ("monthly", "yearly")},
    "invoices": {"status": ("open", "paid", "void")},
    "payment_attempts": {
        "outcome": ("pending", "succeeded", "failed", "unknown"),
        "failure_reason": ("card_limit_reached", "card_expired", "insufficient_funds", "issuer_unavailable",
                           "payment_system_error"),
        "triggered_by": ("renewal", "bot", "dunning"),
    },
    "tickets": {
        "status": ("open", "assigned", "resolved"),
        "reason": ("customer_request", "not_understood", "annual_refund", "telephony_refund_review",
                   "on_premise_licence", "payment_retries_exhausted", "cancellation_dispute"),
        "resolution": ("resolved", "handed_back"),
    },
    "ticket_messages": {"author": ("customer", "bot", "agent", "system")},
    "messenger_links": {"platform": ("telegram", "facebook", "slack")},
}


def condition(column: str, values: tuple) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def upgrade() -> None:
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column, values in columns.items():
                batch.create_check_constraint(f"ck_{table}_{column}", condition(column, values))
    op.create_table(
        "sandbox_charges",
        sa.Column("idempotency_key", sa.String(length=128), primary_key=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("failure_reason", sa.String(length=32)),
        sa.Column("reference", sa.String(length=160)),
        sa.Column("charged_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(condition("outcome", CHECKS["payment_attempts"]["outcome"]), name="ck_sandbox_charges_outcome"),
        sa.CheckConstraint(condition("failure_reason", CHECKS["payment_attempts"]["failure_reason"]),
                           name="ck_sandbox_charges_failure_reason"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_charges")
    for table, columns in CHECKS.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(f"ck_{table}_{column}", type_="check")
