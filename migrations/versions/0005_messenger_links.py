"""messenger account links: one-time codes (hashed), links, wrong-code counters

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messenger_link_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(length=160), nullable=True),
        sa.UniqueConstraint("code_hash", name="uq_messenger_link_codes_code_hash"),
    )
    op.create_index("ix_messenger_link_codes_email", "messenger_link_codes", ["email"])
    op.create_table(
        "messenger_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=128), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "platform_user_id", name="uq_messenger_links_platform_user"),
    )
    op.create_index("ix_messenger_links_email", "messenger_links", ["email"])
    op.create_table(
        "messenger_link_attempts",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("platform_user_id", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("platform", "platform_user_id"),
    )


def downgrade() -> None:
    op.drop_table("messenger_link_attempts")
    op.drop_index("ix_messenger_links_email", table_name="messenger_links")
    op.drop_table("messenger_links")
    op.drop_index("ix_messenger_link_codes_email", table_name="messenger_link_codes")
    op.drop_table("messenger_link_codes")
