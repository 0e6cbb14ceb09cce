"""customers' satisfaction answers

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.String(1000), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("commented_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_ratings_score"),
        sa.CheckConstraint("trigger IN ('resolved', 'bot_end')", name="ck_satisfaction_ratings_trigger"),
    )
    op.create_index("ix_satisfaction_ratings_conversation_id", "satisfaction_ratings", ["conversation_id"])
    op.create_index("ix_satisfaction_ratings_answered_at", "satisfaction_ratings", ["answered_at"])


def downgrade() -> None:
    op.drop_table("satisfaction_ratings")
