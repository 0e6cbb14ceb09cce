"""payment methods: the gateway's customer and payment method ids

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        batch.add_column(sa.Column("gateway_customer", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("gateway_method", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_methods") as batch:
        batch.drop_column("gateway_method")
        batch.drop_column("gateway_customer")
