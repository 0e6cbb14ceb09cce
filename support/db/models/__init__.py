"""The subscription database's tables, split by area, all registered in one metadata (Base)."""

from support.db.models.base import Base, one_of, utc
from support.db.models.billing import (
    Account,
    AuditLog,
    Invoice,
    OutboxEmail,
    PaymentAttempt,
    PaymentMethod,
    Plan,
    SandboxCharge,
    Subscription,
    TelephonyBalance,
    User,
)
from support.db.models.handoff import HelpdeskDelivery, HelpdeskInboundEvent, Ticket, TicketMessage
from support.db.models.links import MessengerLink, MessengerLinkAttempts, MessengerLinkCode
from support.db.models.satisfaction import SatisfactionRating

__all__ = [
    "Account",
    "AuditLog",
    "Base",
    "HelpdeskDelivery",
    "HelpdeskInboundEvent",
    "Invoice",
    "MessengerLink",
    "MessengerLinkAttempts",
    "MessengerLinkCode",
    "OutboxEmail",
    "PaymentAttempt",
    "PaymentMethod",
    "Plan",
    "SandboxCharge",
    "SatisfactionRating",
    "Subscription",
    "TelephonyBalance",
    "Ticket",
    "TicketMessage",
    "User",
    "one_of",
    "utc",
]
