"""The Stripe adapter against a loopback stand-in of the Stripe endpoints it calls."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any, Iterator, Tuple
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, update

from support.billing.payment_retry import reconcile_unknown, retry_payment
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.payments.port import Card, GatewayTimeout
from support.payments.stripe_gateway import StripeGateway
from tests.helpers.concurrency import run_at_once
from tests.helpers.loopback import LoopbackServer

DECLINES = {
    "pm_insufficient": "insufficient_funds",
    "pm_expired": "expired_card",
    "pm_velocity": "card_velocity_exceeded",
    "pm_issuer": "issuer_not_available",
    "pm_processing": "processing_error",
}


class StripeStandIn(LoopbackServer[dict]):
    """POST /v1/payment_intents and GET /v1/payment_intents/search, as Stripe answers them. The payment
    method says what happens: a decline (DECLINES), pm_slow (charged, answered too late), pm_500 (charged,
    then an API error)."""

    def __init__(self) -> None:
        self.intents: dict = {}  # idempotency key -> (status, body)
        super().__init__()

    def respond(self, request: BaseHTTPRequestHandler, body: bytes) -> Tuple[dict, int, Any]:
        if request.command == "GET":
            query = parse_qs(urlparse(request.path).query).get("query", [""])[0]
            found = [intent for key, (status, intent) in self.intents.items() if status == 200 and f"'{key}'" in query]
            return (
                {"search": query},
                200,
                {"object": "search_result", "data": found, "has_more": False, "url": "/v1/payment_intents/search"},
            )
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        key = request.headers.get("Idempotency-Key")
        call = {"key": key, "form": form, "auth": request.headers.get("Authorization")}
        method = form.get("payment_method", "")
        if key not in self.intents:
            if method in DECLINES:
                self.intents[key] = (
                    402,
                    {
                        "error": {
                            "type": "card_error",
                            "code": "card_declined",
                            "decline_code": DECLINES[method],
                            "message": "declined",
                        }
                    },
                )
            else:
                self.intents[key] = (
                    200,
                    {
                        "id": f"pi_{len(self.intents) + 1}",
                        "object": "payment_intent",
                        "status": "succeeded",
                        "amount": int(form["amount"]),
                        "currency": form["currency"],
                        "metadata": {"attempt_key": key},
                    },
                )
        if method == "pm_500":
            return call, 500, {"error": {"type": "api_error", "message": "An unknown error occurred"}}
        status, answer = self.intents[key]
        return call, status, answer

    def delay(self, call: dict) -> float:
        return 1.5 if call.get("form", {}).get("payment_method") == "pm_slow" else 0.0

    @property
    def charges(self) -> list:
        return [call for call in self.calls if "form" in call]


@pytest.fixture
def stripe() -> Iterator[StripeStandIn]:
    with StripeStandIn() as standin:
        yield standin


CARD = Card("visa", "4242", 12, 2099, "cus_123", "pm_ok")


def test_a_charge_sends_amount_currency_and_idempotency_key(stripe: StripeStandIn) -> None:
    gateway = StripeGateway("sk_test_standin", stripe.url)
    result = gateway.charge(amount_minor=9900, currency="EUR", card=CARD, idempotency_key="invoice-7-attempt-3")
    assert result.outcome == "succeeded" and result.reference == "pi_1"
    call = stripe.charges[-1]
    assert call["key"] == "invoice-7-attempt-3" and call["auth"] == "Bearer sk_test_standin"
    assert (call["form"]["amount"], call["form"]["currency"], call["form"]["customer"]) == ("9900", "eur", "cus_123")
    assert call["form"]["metadata[attempt_key]"] == "invoice-7-attempt-3"
    again = gateway.charge(amount_minor=9900, currency="EUR", card=CARD, idempotency_key="invoice-7-attempt-3")
    assert again.reference == "pi_1"  # the same key is the same charge


@pytest.mark.parametrize(
    "method, reason",
    [
        ("pm_insufficient", "insufficient_funds"),
        ("pm_expired", "card_expired"),
        ("pm_velocity", "card_limit_reached"),
        ("pm_issuer", "issuer_unavailable"),
        ("pm_processing", "payment_system_error"),
    ],
)
def test_declines_map_to_the_five_reasons(stripe: StripeStandIn, method: str, reason: str) -> None:
    card = Card("visa", "0002", 12, 2099, "cus_123", method)
    result = StripeGateway("sk_test", stripe.url).charge(
        amount_minor=100, currency="EUR", card=card, idempotency_key=f"k-{method}"
    )
    assert (result.outcome, result.failure_reason) == ("failed", reason)


def test_a_lost_answer_is_a_timeout_and_lookup_finds_the_charge(stripe: StripeStandIn) -> None:
    gateway = StripeGateway("sk_test", stripe.url, timeout_seconds=0.5)
    card = Card("visa", "4242", 12, 2099, "cus_123", "pm_slow")
    with pytest.raises(GatewayTimeout):
        gateway.charge(amount_minor=100, currency="EUR", card=card, idempotency_key="slow-1")
    assert gateway.lookup("slow-1").outcome == "succeeded"
    assert gateway.lookup("never-sent") is None


def _umbrella_pays_with(database_url: str, method: str) -> None:
    """Umbrella's card becomes a Stripe customer's payment method (the stand-in decides by its id)."""
    with session_scope(engine_for(database_url)) as session:
        account_id = session.execute(
            select(m.User.account_id).where(m.User.email == "admin@umbrella.example")
        ).scalar_one()
        session.execute(
            update(m.PaymentMethod)
            .where(m.PaymentMethod.account_id == account_id)
            .values(gateway_customer="cus_umbrella", gateway_method=method)
        )


def test_concurrent_retries_through_stripe_charge_once(database_url: str, stripe: StripeStandIn) -> None:
    _umbrella_pays_with(database_url, "pm_ok")
    gateway = StripeGateway("sk_test", stripe.url)
    outcomes, errors = run_at_once(
        lambda _: retry_payment(
            engine_for(database_url), gateway, "admin@umbrella.example", "tab", "en", now_utc(), 3
        ).status,
        20,
    )
    assert not errors and len(outcomes) == 20 and outcomes.count("succeeded") == 1
    assert len(stripe.charges) == 1
    assert stripe.charges[0]["form"]["amount"] == "9900" and stripe.charges[0]["key"].startswith("invoice-")
    assert reconcile_unknown(engine_for(database_url), gateway, now_utc()) == 0


def test_a_stripe_api_error_after_the_charge_is_reconciled_never_charged_twice(
    database_url: str, stripe: StripeStandIn
) -> None:
    """Stripe answers 500 (APIError) though it charged: the attempt is unknown, then settled by key."""
    _umbrella_pays_with(database_url, "pm_500")
    gateway = StripeGateway("sk_test", stripe.url)

    def retry() -> str:
        return retry_payment(
            engine_for(database_url), gateway, "admin@umbrella.example", "tab", "en", now_utc(), 3
        ).status

    assert retry() == "unknown"
    assert retry() == "in_progress" and len(stripe.charges) == 1
    assert reconcile_unknown(engine_for(database_url), gateway, now_utc()) == 1
    assert retry() == "already_paid" and len(stripe.charges) == 1
