"""The closed vocabularies the database stores, as `str` enums the code compares against.

Each member is its own database value (`SubscriptionStatus.PAST_DUE == "past_due"`), and every
column that stores one has a CHECK constraint listing exactly these values (migration 0006).
"""

from __future__ import annotations

from enum import Enum


class Vocabulary(str, Enum):
    """A str enum whose str() is its value, so it reads the same in f-strings, JSON and SQL."""

    def __str__(self) -> str:
        return str(self.value)


class Edition(Vocabulary):
    CLOUD = "cloud"
    ON_PREMISE = "on_premise"


class Role(Vocabulary):
    ADMIN = "admin"
    MEMBER = "member"


class Cycle(Vocabulary):
    MONTHLY = "monthly"
    YEARLY = "yearly"


class SubscriptionStatus(Vocabulary):
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    FREE = "free"


class InvoiceStatus(Vocabulary):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class AttemptOutcome(Vocabulary):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the gateway's answer was lost: settled by looking the key up, never by charging again


class FailureReason(Vocabulary):
    """The five reasons a renewal fails, as the help page gives them."""

    CARD_LIMIT_REACHED = "card_limit_reached"
    CARD_EXPIRED = "card_expired"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    ISSUER_UNAVAILABLE = "issuer_unavailable"
    PAYMENT_SYSTEM_ERROR = "payment_system_error"


class TriggeredBy(Vocabulary):
    RENEWAL = "renewal"
    BOT = "bot"
    DUNNING = "dunning"


class TicketStatus(Vocabulary):
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"


class Resolution(Vocabulary):
    RESOLVED = "resolved"
    HANDED_BACK = "handed_back"


class HandoffReason(Vocabulary):
    CUSTOMER_REQUEST = "customer_request"
    NOT_UNDERSTOOD = "not_understood"
    ANNUAL_REFUND = "annual_refund"
    TELEPHONY_REFUND_REVIEW = "telephony_refund_review"
    ON_PREMISE_LICENCE = "on_premise_licence"
    PAYMENT_RETRIES_EXHAUSTED = "payment_retries_exhausted"
    CANCELLATION_DISPUTE = "cancellation_dispute"
    BILLING_DISPUTE = "billing_dispute"  # charged twice, after cancelling, an amount not recognised
    PRIVACY_REQUEST = "privacy_request"  # GDPR / RGPD / Loi 25: access, export or erasure of personal data


class Author(Vocabulary):
    """Who wrote a line of a ticket's transcript."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class Platform(Vocabulary):
    TELEGRAM = "telegram"
    FACEBOOK = "facebook"
    SLACK = "slack"


class RatingTrigger(Vocabulary):
    """When the satisfaction question was asked."""

    RESOLVED = "resolved"  # after a person resolved the customer's ticket
    BOT_END = "bot_end"  # at the end of a conversation the bot handled alone
