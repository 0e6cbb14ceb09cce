"""payment attempts: idempotency key (unique), trigger, gateway reference

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("triggered_by", sa.String(length=16), nullable=False, server_default="renewal"))
        batch.add_column(sa.Column("gateway_reference", sa.String(length=128), nullable=True))
        batch.create_unique_constraint("uq_payment_attempts_idempotency_key", ["idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("payment_attempts") as batch:
        batch.drop_constraint("uq_payment_attempts_idempotency_key", type_="unique")
        batch.drop_column("gateway_reference")
        batch.drop_column("triggered_by")
        batch.drop_column("idempotency_key")
