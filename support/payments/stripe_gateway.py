"""The Stripe adapter of the payment gateway port (official `stripe` library).

Every charge is a PaymentIntent confirmed off-session with an Idempotency-Key header; the key is
also stored in the intent's metadata so that `lookup` can find what happened to a charge whose
answer was lost. STRIPE_API_BASE points the adapter at another address (a test stand-in).
"""

from __future__ import annotations

from typing import Any, Optional

import stripe

from support.payments.port import Card, ChargeResult, GatewayTimeout
from support.vocabulary import AttemptOutcome, FailureReason

# Stripe decline codes -> the five reasons the help page gives
DECLINE_REASONS = {
    "insufficient_funds": FailureReason.INSUFFICIENT_FUNDS,
    "expired_card": FailureReason.CARD_EXPIRED,
    "card_velocity_exceeded": FailureReason.CARD_LIMIT_REACHED,
    "withdrawal_count_limit_exceeded": FailureReason.CARD_LIMIT_REACHED,
    "issuer_not_available": FailureReason.ISSUER_UNAVAILABLE,
    "try_again_later": FailureReason.ISSUER_UNAVAILABLE,
    "processing_error": FailureReason.PAYMENT_SYSTEM_ERROR,
}


class StripeGateway:
    def __init__(self, api_key: str, api_base: Optional[str] = None, timeout_seconds: float = 10) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else None,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    @staticmethod
    def _result(intent: Any) -> ChargeResult:
        if intent.status == "succeeded":
            return ChargeResult(AttemptOutcome.SUCCEEDED, None, intent.id)
        return ChargeResult(AttemptOutcome.FAILED, FailureReason.PAYMENT_SYSTEM_ERROR, intent.id)

    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult:
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": card.gateway_customer,
            "payment_method": card.gateway_method,
            "confirm": True,
            "off_session": True,
            "metadata": {"attempt_key": idempotency_key},
        }
        try:
            intent = self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            code = getattr(error.error, "decline_code", None) or error.code
            return ChargeResult(
                AttemptOutcome.FAILED, DECLINE_REASONS.get(code or "", FailureReason.PAYMENT_SYSTEM_ERROR), None
            )
        except stripe.APIConnectionError as error:
            raise GatewayTimeout(idempotency_key) from error
        return self._result(intent)

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]:
        found = self._client.v1.payment_intents.search(params={"query": f"metadata['attempt_key']:'{idempotency_key}'"})
        return self._result(found.data[0]) if found.data else None
