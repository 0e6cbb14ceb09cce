"""The payment gateway port and its embedded default, a sandbox that decides like a provider's test mode.

A gateway charges a card once per idempotency key: asking again with the same key returns the
first result instead of charging twice, and `lookup` tells what happened to a key whose answer
was lost (a timeout).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Dict, Optional, Protocol

from actions.queries import Card


@dataclass(frozen=True)
class ChargeResult:
    outcome: str  # succeeded, failed
    failure_reason: Optional[str] = None
    reference: Optional[str] = None


class GatewayTimeout(Exception):
    """The gateway did not answer in time: the charge may or may not have happened."""


class PaymentGateway(Protocol):
    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult: ...

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]: ...


# Test-mode cards, by their last four digits (an expired card fails whatever its number).
SANDBOX_DECLINES = {
    "9995": "insufficient_funds",
    "0341": "card_limit_reached",
    "0119": "issuer_unavailable",
    "0002": "payment_system_error",
}
SANDBOX_TIMEOUT = "0000"  # charged, but the answer is lost on the way back


class SandboxGateway:
    """Decides from the stored card; remembers every key so that a replay never charges again."""

    def __init__(self, now: Optional[datetime] = None) -> None:
        self._results: Dict[str, ChargeResult] = {}
        self._lock = threading.Lock()
        self._now = now
        self.charges = 0  # calls that reached the "card network": what a double charge would show

    def _decide(self, card: Card, key: str) -> ChargeResult:
        if card.expired(self._now or datetime.utcnow()):
            return ChargeResult("failed", "card_expired", f"sandbox-{key}")
        reason = SANDBOX_DECLINES.get(card.last4)
        return ChargeResult("failed", reason, f"sandbox-{key}") if reason else ChargeResult("succeeded", None, f"sandbox-{key}")

    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult:
        with self._lock:
            if idempotency_key in self._results:
                return self._results[idempotency_key]
            self.charges += 1
            result = self._decide(card, idempotency_key)
            self._results[idempotency_key] = result
        if card.last4 == SANDBOX_TIMEOUT:
            raise GatewayTimeout(idempotency_key)
        return result

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]:
        with self._lock:
            return self._results.get(idempotency_key)


_SANDBOX = SandboxGateway()


def configured_gateway() -> PaymentGateway:
    """The gateway product.yml names (one per process, so that lookups see earlier charges)."""
    from actions.product import product

    name = os.environ.get("PAYMENT_GATEWAY") or product().get("payment_gateway", "sandbox")
    if name == "stripe":
        from actions.stripe_gateway import StripeGateway

        return StripeGateway(os.environ["STRIPE_API_KEY"], os.environ.get("STRIPE_API_BASE"))
    if name != "sandbox":
        raise ValueError(f"unknown payment gateway {name!r}")
    return _SANDBOX
