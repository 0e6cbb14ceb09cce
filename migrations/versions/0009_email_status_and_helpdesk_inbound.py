"""emails by account and resends; the helpdesk's conversation id on tickets; inbound helpdesk events seen once

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_emails") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("resend_of", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbox_emails_account_id", "accounts", ["account_id"], ["id"])
        batch.create_foreign_key("fk_outbox_emails_resend_of", "outbox_emails", ["resend_of"], ["id"])
        batch.create_index("ix_outbox_emails_account_id", ["account_id"])
    # Emails queued before this revision: their account is their addressee's.
    op.execute(
        "UPDATE outbox_emails SET account_id = "
        "(SELECT users.account_id FROM users WHERE users.email = outbox_emails.to_email)"
    )
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("helpdesk_conversation_id", sa.String(64), nullable=True))
        batch.create_index("ix_tickets_helpdesk_conversation_id", ["helpdesk_conversation_id"])
    op.create_table(
        "helpdesk_inbound_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "event_id", name="uq_helpdesk_inbound_events_source"),
    )


def downgrade() -> None:
    op.drop_table("helpdesk_inbound_events")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_helpdesk_conversation_id")
        batch.drop_column("helpdesk_conversation_id")
    with op.batch_alter_table("outbox_emails") as batch:
        batch.drop_index("ix_outbox_emails_account_id")
        batch.drop_constraint("fk_outbox_emails_resend_of", type_="foreignkey")
        batch.drop_constraint("fk_outbox_emails_account_id", type_="foreignkey")
        batch.drop_column("resend_of")
        batch.drop_column("account_id")
