"""product.yml and the environment are read into frozen settings and checked when a server starts."""

from __future__ import annotations

import dataclasses
from datetime import time

import pytest
import yaml

from support.settings import (
    InsecureConfiguration,
    InvalidSettings,
    check_configuration,
    environment,
    helpdesk_mode,
    parse_product,
    payment_gateway_name,
    product,
)
from tests.helpers.server import ROOT

RAW = yaml.safe_load((ROOT / "product.yml").read_text(encoding="utf-8"))


def test_product_yml_is_read_into_typed_frozen_settings() -> None:
    facts = product()
    assert facts.grace_days == RAW["grace_days"] and facts.support_opens == time.fromisoformat(RAW["support_opens"])
    assert facts.dunning_retry_days == tuple(RAW["dunning_retry_days"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        facts.grace_days = 30  # type: ignore[misc]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grace_days": None}, "grace_days"),
        ({"default_language": "de"}, "default_language"),
        ({"payment_gateway": "paypal"}, "payment_gateway"),
        ({"helpdesk_mode": "zendesk"}, "helpdesk_mode"),
        ({"support_days": ["monday"]}, "support_days"),
        ({"support_timezone": "Europe/Atlantis"}, "support_timezone"),
        ({"support_opens": "19:00"}, "support_opens"),
        ({"dunning_retry_days": [1, 30]}, "dunning_retry_days"),
        ({"support_closes": "late"}, "product.yml"),
    ],
)
def test_a_wrong_product_yml_is_refused_with_the_key_named(change: dict, message: str) -> None:
    with pytest.raises(InvalidSettings, match=message):
        parse_product({**RAW, **change})


def test_a_missing_key_is_named() -> None:
    with pytest.raises(InvalidSettings, match="missing grace_days"):
        parse_product({key: value for key, value in RAW.items() if key != "grace_days"})


def test_the_environment_is_read_again_when_it_changes(monkeypatch) -> None:
    monkeypatch.setenv("HELPDESK_POLL_SECONDS", "0.5")
    assert environment().helpdesk_poll_seconds == 0.5
    monkeypatch.setenv("HELPDESK_POLL_SECONDS", "3")
    assert environment().helpdesk_poll_seconds == 3.0
    monkeypatch.setenv("HELPDESK_MODE", "Chatwoot")
    assert helpdesk_mode() == "chatwoot"


def test_unknown_adapters_are_refused_at_start(monkeypatch) -> None:
    monkeypatch.setenv("PAYMENT_GATEWAY", "paypal")
    with pytest.raises(InvalidSettings, match="PAYMENT_GATEWAY"):
        check_configuration()
    monkeypatch.setenv("PAYMENT_GATEWAY", "stripe")
    assert payment_gateway_name() == "stripe"


def test_outside_development_every_secret_must_be_real(monkeypatch) -> None:
    names = (
        "AUTH_JWT_SECRET",
        "AUTH_JWT_PUBLIC_KEY",
        "CHANNEL_TOKEN_SECRET",
        "CHAT_SESSION_SECRET",
        "ACTION_SERVER_TOKEN",
        "PAYMENT_GATEWAY",
        "HELPDESK_MODE",
    )
    for name in names:
        monkeypatch.delenv(name, raising=False)
    for app_env in ("", "production", "staging", "Development "):  # only exactly "development" is development
        monkeypatch.setenv("APP_ENV", app_env)
        with pytest.raises(InsecureConfiguration, match="ACTION_SERVER_TOKEN"):
            check_configuration()
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-of-enough-length-for-hs256")
    with pytest.raises(InsecureConfiguration, match="ACTION_SERVER_TOKEN"):
        check_configuration()
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a-token-the-rasa-server-sends")
    check_configuration()
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("AUTH_JWT_SECRET")
    check_configuration()  # the development secrets are fine when asked for
