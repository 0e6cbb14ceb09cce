"""Who the customer is: the website's tokens (HS256 or RS256) and our channels' own short tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support.identity import DEV_SECRET, IDENTITY, attest, issue_token, verified_email, verified_token
from support.settings import InsecureConfiguration, check_configuration

WEBSITE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = (
    WEBSITE_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


def website_rs256(email: str, minutes: int = 10) -> str:
    return jwt.encode(
        {"sub": email, "exp": datetime.now(timezone.utc) + timedelta(minutes=minutes)}, WEBSITE_KEY, algorithm="RS256"
    )


def hs256_signed_with(key: bytes) -> str:
    """An HS256 token whose "secret" is the website's public key (PyJWT itself refuses to make one)."""

    def part(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    claims = {"sub": "admin@acme.example", "exp": int(datetime.now(timezone.utc).timestamp()) + 300}
    signing_input = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + b"." + part(json.dumps(claims).encode())
    return (signing_input + b"." + part(hmac.new(key, signing_input, hashlib.sha256).digest())).decode()


@pytest.fixture
def rs256(monkeypatch) -> None:
    monkeypatch.setenv("AUTH_JWT_PUBLIC_KEY", PUBLIC_PEM)
    monkeypatch.setenv("CHANNEL_TOKEN_SECRET", "channel-secret-for-tests")
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)


def email_of(token: object) -> object:
    customer = verified_token(token)
    return customer.email if customer else None


def test_rs256_website_tokens_are_accepted(rs256) -> None:
    assert email_of(website_rs256("Admin@Acme.example")) == "admin@acme.example"


@pytest.mark.parametrize("token", [None, "", 42, ["a"], "not-a-jwt", "a" * 5000])
def test_anything_but_a_token_is_anonymous(token: object) -> None:
    assert verified_token(token) is None


def test_rs256_mode_refuses_hs256_tokens_and_key_confusion(rs256) -> None:
    assert email_of(issue_token("admin@acme.example", secret="anything")) is None
    assert email_of(hs256_signed_with(PUBLIC_PEM.encode())) is None  # key confusion
    assert email_of(website_rs256("admin@acme.example", minutes=-1)) is None


def test_an_attestation_holds_for_its_own_conversation_only(rs256) -> None:
    metadata = {IDENTITY: attest("admin@acme.example", "web-123")}
    assert verified_email(metadata, "web-123") == "admin@acme.example"
    assert verified_email(metadata, "rest-123") is None  # replayed in another conversation
    forged = {IDENTITY: {**metadata[IDENTITY], "email": "admin@globex.example"}}
    assert verified_email(forged, "web-123") is None
    expired = {IDENTITY: attest("admin@acme.example", "web-123", datetime.now(timezone.utc) - timedelta(seconds=1))}
    assert verified_email(expired, "web-123") is None
    for broken in ({}, {IDENTITY: "x"}, {IDENTITY: {"email": 1}}, {"token": website_rs256("admin@acme.example")}):
        assert verified_email(broken, "web-123") is None  # a raw token is not an identity any more
    assert verified_email(None, "web-123") is None


def test_an_attestation_never_outlives_the_customers_token(rs256) -> None:
    soon = datetime.now(timezone.utc) + timedelta(seconds=30)
    assert attest("admin@acme.example", "web-1", soon)["until"] == int(soon.timestamp())


def test_production_without_any_key_refuses_to_start_and_verifies_nothing(monkeypatch) -> None:
    attested = {IDENTITY: attest("admin@acme.example", "web-1")}  # signed with the development secret
    for name in ("AUTH_JWT_SECRET", "AUTH_JWT_PUBLIC_KEY", "CHANNEL_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(InsecureConfiguration):
        check_configuration()
    assert verified_email(attested, "web-1") is None  # no crash, no identity
    assert email_of(issue_token("admin@acme.example", secret=DEV_SECRET)) is None


def test_outside_development_the_development_secret_is_never_used(monkeypatch) -> None:
    """APP_ENV unset is production: with only an RS256 key, attestations need their own secret."""
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    monkeypatch.delenv("CHANNEL_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("AUTH_JWT_PUBLIC_KEY", PUBLIC_PEM)
    with pytest.raises(InsecureConfiguration):
        attest("admin@acme.example", "web-1")
    monkeypatch.setenv("CHANNEL_TOKEN_SECRET", "channel-secret-for-tests")
    assert verified_email({IDENTITY: attest("admin@acme.example", "web-1")}, "web-1") == "admin@acme.example"
