"""two more handoff reasons: billing disputes and privacy requests

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The values as support/vocabulary.py had them when this migration was written (a migration never changes).
BEFORE = (
    "customer_request",
    "not_understood",
    "annual_refund",
    "telephony_refund_review",
    "on_premise_licence",
    "payment_retries_exhausted",
    "cancellation_dispute",
)
AFTER = (*BEFORE, "billing_dispute", "privacy_request")


def _replace_check(values: tuple) -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_constraint("ck_tickets_reason", type_="check")
        batch.create_check_constraint("ck_tickets_reason", f"reason IN ({', '.join(repr(v) for v in values)})")


def upgrade() -> None:
    _replace_check(AFTER)


def downgrade() -> None:
    _replace_check(BEFORE)
