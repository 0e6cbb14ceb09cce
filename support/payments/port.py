"""The payment gateway port: what billing asks of any payment provider, and the types it speaks.

A gateway charges a card once per idempotency key: asking again with the same key returns the
first result instead of charging twice, and `lookup` tells what happened to a key whose answer
was lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional, Protocol


@dataclass(frozen=True)
class Card:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    gateway_customer: Optional[str] = None
    gateway_method: Optional[str] = None

    def expired(self, now: datetime) -> bool:
        return (self.exp_year, self.exp_month) < (now.year, now.month)


@dataclass(frozen=True)
class ChargeResult:
    outcome: str  # AttemptOutcome.SUCCEEDED or FAILED
    failure_reason: Optional[str] = None  # a FailureReason when failed
    reference: Optional[str] = None


class GatewayTimeout(Exception):
    """The gateway did not answer in time: the charge may or may not have happened."""


class PaymentGateway(Protocol):
    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult: ...

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]: ...
