"""The Stripe adapter of the payment gateway port (official `stripe` library).

Every charge is a PaymentIntent confirmed off-session with an Idempotency-Key header; the key is
also stored in the intent's metadata so that `lookup` can find what happened to a charge whose
answer was lost. STRIPE_API_BASE points the adapter at another address (a test stand-in).
"""
from __future__ import annotations

from typing import Any, Optional

import stripe

from actions.queries import Card
from actions.gateway import ChargeResult, GatewayTimeout

# Stripe decline codes -> the five reasons the help page gives
DECLINE_REASONS = {
    "insufficient_funds": "insufficient_funds",
    "expired_card": "card_expired",
    "card_velocity_exceeded": "card_limit_reached",
    "withdrawal_count_limit_exceeded": "card_limit_reached",
    "issuer_not_available": "issuer_unavailable",
    "try_again_later": "issuer_unavailable",
    "processing_error": "payment_system_error",
}


class StripeGateway:
    def __init__(self, api_key: str, api_base: Optional[str] = None, timeout_seconds: float = 10) -> None:
        self._client = stripe.StripeClient(
            api_key, base_addresses={"api": api_base} if api_base else None, max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds))

    @staticmethod
    def _result(intent: Any) -> ChargeResult:
        if intent.status == "succeeded":
            return ChargeResult("succeeded", None, intent.id)
        return ChargeResult("failed", "payment_system_error", intent.id)

    def charge(self, *, amount_minor: int, currency: str, card: Card, idempotency_key: str) -> ChargeResult:
        params = {"amount": amount_minor, "currency": currency.lower(), "customer": card.gateway_customer,
                  "payment_method": card.gateway_method, "confirm": True, "off_session": True,
                  "metadata": {"attempt_key": idempotency_key}}
        try:
            intent = self._client.v1.payment_intents.create(params=params, options={"idempotency_key": idempotency_key})
        except stripe.CardError as error:
            code = getattr(error.error, "decline_code", None) or error.code
            return ChargeResult("failed", DECLINE_REASONS.get(code or "", "payment_system_error"), None)
        except stripe.APIConnectionError as error:
            raise GatewayTimeout(idempotency_key) from error
        return self._result(intent)

    def lookup(self, idempotency_key: str) -> Optional[ChargeResult]:
        found = self._client.v1.payment_intents.search(
            params={"query": f"metadata['attempt_key']:'{idempotency_key}'"})
        return self._result(found.data[0]) if found.data else None
