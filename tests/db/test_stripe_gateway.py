"""The Stripe adapter against a loopback stand-in of the Stripe endpoints it calls."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, update

from support.billing.payment_retry import reconcile_unknown, retry_payment
from support.clock import now_utc
from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.payments.port import Card, GatewayTimeout
from support.payments.stripe_gateway import StripeGateway

DECLINES = {"pm_insufficient": "insufficient_funds", "pm_expired": "expired_card",
            "pm_velocity": "card_velocity_exceeded", "pm_issuer": "issuer_not_available",
            "pm_processing": "processing_error"}


class StandIn(BaseHTTPRequestHandler):
    """POST /v1/payment_intents and GET /v1/payment_intents/search, as Stripe answers them."""

    calls: list = []
    intents: dict = {}  # idempotency key -> (status, body)
    lock = threading.Lock()

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        key = self.headers.get("Idempotency-Key")
        with self.lock:
            self.calls.append({"key": key, "form": form, "auth": self.headers.get("Authorization")})
            if key not in self.intents:
                method = form.get("payment_method", "")
                if method in DECLINES:
                    self.intents[key] = (402, {"error": {"type": "card_error", "code": "card_declined",
                                                         "decline_code": DECLINES[method], "message": "declined"}})
                else:
                    self.intents[key] = (200, {"id": f"pi_{len(self.intents) + 1}", "object": "payment_intent",
                                               "status": "succeeded", "amount": int(form["amount"]),
                                               "currency": form["currency"], "metadata": {"attempt_key": key}})
            status, body = self.intents[key]
        if form.get("payment_method") == "pm_slow":
            time.sleep(1.5)  # charged, but the answer comes too late
        self._reply(status, body)

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query).get("query", [""])[0]
        with self.lock:
            found = [body for key, (status, body) in self.intents.items() if status == 200 and f"'{key}'" in query]
        self._reply(200, {"object": "search_result", "data": found, "has_more": False, "url": "/v1/payment_intents/search"})


@pytest.fixture
def stripe_base() -> Iterator[str]:
    StandIn.calls, StandIn.intents = [], {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


CARD = Card("visa", "4242", 12, 2099, "cus_123", "pm_ok")


def test_a_charge_sends_amount_currency_and_idempotency_key(stripe_base: str) -> None:
    gateway = StripeGateway("sk_test_standin", stripe_base)
    result = gateway.charge(amount_minor=9900, currency="EUR", card=CARD, idempotency_key="invoice-7-attempt-3")
    assert result.outcome == "succeeded" and result.reference == "pi_1"
    call = StandIn.calls[-1]
    assert call["key"] == "invoice-7-attempt-3" and call["auth"] == "Bearer sk_test_standin"
    assert (call["form"]["amount"], call["form"]["currency"], call["form"]["customer"]) == ("9900", "eur", "cus_123")
    assert call["form"]["metadata[attempt_key]"] == "invoice-7-attempt-3"
    again = gateway.charge(amount_minor=9900, currency="EUR", card=CARD, idempotency_key="invoice-7-attempt-3")
    assert again.reference == "pi_1"  # the same key is the same charge


@pytest.mark.parametrize("method, reason", [
    ("pm_insufficient", "insufficient_funds"), ("pm_expired", "card_expired"), ("pm_velocity", "card_limit_reached"),
    ("pm_issuer", "issuer_unavailable"), ("pm_processing", "payment_system_error"),
])
def test_declines_map_to_the_five_reasons(stripe_base: str, method: str, reason: str) -> None:
    card = Card("visa", "0002", 12, 2099, "cus_123", method)
    result = StripeGateway("sk_test", stripe_base).charge(amount_minor=100, currency="EUR", card=card,
                                                         idempotency_key=f"k-{method}")
    assert (result.outcome, result.failure_reason) == ("failed", reason)


def test_a_lost_answer_is_a_timeout_and_lookup_finds_the_charge(stripe_base: str) -> None:
    gateway = StripeGateway("sk_test", stripe_base, timeout_seconds=0.5)
    card = Card("visa", "4242", 12, 2099, "cus_123", "pm_slow")
    with pytest.raises(GatewayTimeout):
        gateway.charge(amount_minor=100, currency="EUR", card=card, idempotency_key="slow-1")
    assert gateway.lookup("slow-1").outcome == "succeeded"
    assert gateway.lookup("never-sent") is None


def test_concurrent_retries_through_stripe_charge_once(database_url: str, stripe_base: str) -> None:
    with session_scope(engine_for(database_url)) as session:
        account_id = session.execute(select(m.User.account_id).where(m.User.email == "admin@umbrella.example")).scalar_one()
        session.execute(update(m.PaymentMethod).where(m.PaymentMethod.account_id == account_id)
                        .values(gateway_customer="cus_umbrella", gateway_method="pm_ok"))
    gateway, outcomes = StripeGateway("sk_test", stripe_base), []
    threads = [threading.Thread(target=lambda: outcomes.append(retry_payment(
        engine_for(database_url), gateway, "admin@umbrella.example", "tab", "en", now_utc(), 3).status))
        for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 20 and outcomes.count("succeeded") == 1
    assert len([c for c in StandIn.calls]) == 1
    assert StandIn.calls[0]["form"]["amount"] == "9900" and StandIn.calls[0]["key"].startswith("invoice-")
    assert reconcile_unknown(engine_for(database_url), gateway, now_utc()) == 0
