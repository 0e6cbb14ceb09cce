"""The embedded default gateway: a sandbox that decides like a provider's test mode, from the stored card.

Like a real provider, it remembers every idempotency key on its side, in the database
(`sandbox_charges`), so that any number of action-server processes replaying a key never charge twice.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine, session_scope
from support.payments.port import Card, ChargeResult, GatewayTimeout
from support.vocabulary import AttemptOutcome, FailureReason

# Test-mode cards, by their last four digits (an expired card fails whatever its number).
SANDBOX_DECLINES = {
    "9995": FailureReason.INSUFFICIENT_FUNDS,
    "0341": FailureReason.CARD_LIMIT_REACHED,
    "0119": FailureReason.ISSUER_UNAVAILABLE,
    "0002": FailureReason.PAYMENT_SYSTEM_ERROR,
}
SANDBOX_TIMEOUT = "0000"  # charged, but the answer is lost on the way back
SANDBOX_SLOW = "0505"  # charged, answered after SLOW_SECONDS (a slow bank: a replica can die meanwhile)
SLOW_SECONDS = 3.0


def _result(row: m.SandboxCharge) -> ChargeResult:
    return ChargeResult(row.outcome, row.failure_reason, row.reference)


class SandboxGateway:
    """Decides from the stored card; a replayed key returns the first result without charging again."""

    def __init__(self, bind: Optional[Engine] = None, now: Optional[datetime] = None) -> None:
        self._bind = bind
        self._now = now

    @property
    def bind(self) -> Engine:
        return self._bind or engine()

    def _decide(self, card: Card, key: str) -> ChargeResult:
        reference = f"sandbox-{key}"
        if card.expired(self._now or now_utc()):
            return ChargeResult(AttemptOutcome.FAILED, FailureReason.CARD_EXPIRED, reference)
        reason = SANDBOX_DECLINES.get(card.last4)
        if reason:
            return ChargeResult(AttemptOutcome.FAILED, reason, reference)
        return ChargeResult(AttemptOutcome.SUCCEEDED, None, reference)

    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult:
        result = self._record(amount_minor, currency, card, idempotency_key)
        if card.last4 == SANDBOX_SLOW:
            time.sleep(SLOW_SECONDS)
        if card.last4 == SANDBOX_TIMEOUT:
            raise GatewayTimeout(idempotency_key)
        return result

    def _record(self, amount_minor: int, currency: str, card: Card, key: str) -> ChargeResult:
        """The key's one charge: made now, or the one a concurrent call made (its unique key decides)."""
        try:
            with session_scope(self.bind) as session:
                row = session.get(m.SandboxCharge, key)
                if row is not None:
                    return _result(row)
                decided = self._decide(card, key)
                session.add(
                    m.SandboxCharge(
                        idempotency_key=key,
                        amount_minor=amount_minor,
                        currency=currency,
                        outcome=str(decided.outcome),
                        reference=decided.reference,
                        failure_reason=decided.failure_reason and str(decided.failure_reason),
                        charged_at=now_utc(),
                    )
                )
                return decided
        except IntegrityError:
            found = self.lookup(key)
            if found is None:
                raise
            return found

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]:
        with session_scope(self.bind) as session:
            row = session.get(m.SandboxCharge, idempotency_key)
            return _result(row) if row else None

    @property
    def charges(self) -> int:
        """Charges that reached the "card network": what a double charge would show."""
        with session_scope(self.bind) as session:
            return int(session.execute(select(func.count()).select_from(m.SandboxCharge)).scalar_one())
