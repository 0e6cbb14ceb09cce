"""human handoff: tickets, their transcript and the helpdesk outbox

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reference", sa.String(length=16), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=False, unique=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True, index=True),
        sa.Column("user_email", sa.String(length=255), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False, index=True),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "ticket_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=True),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("source_key", sa.String(length=128), nullable=True),
        sa.UniqueConstraint("ticket_id", "source_key"),
    )
    op.create_table(
        "helpdesk_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True, index=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("helpdesk_deliveries")
    op.drop_table("ticket_messages")
    op.drop_table("tickets")
