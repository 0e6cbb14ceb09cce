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

from support.identity import issue_channel_token, issue_token, verified_email
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


def test_rs256_website_tokens_and_channel_tokens_are_both_accepted(rs256) -> None:
    assert verified_email({"token": website_rs256("Admin@Acme.example")}) == "admin@acme.example"
    assert verified_email({"token": issue_channel_token("admin@globex.example")}) == "admin@globex.example"


def test_rs256_mode_refuses_hs256_website_tokens_and_forged_channel_tokens(rs256) -> None:
    assert verified_email({"token": issue_token("admin@acme.example", secret="anything")}) is None
    assert verified_email({"token": hs256_signed_with(PUBLIC_PEM.encode())}) is None  # key confusion
    forged = jwt.encode(
        {
            "sub": "admin@acme.example",
            "iss": "assistant-channel",
            "exp": datetime.now(timezone.utc) + timedelta(minutes=5),
        },
        "guess",
        algorithm="HS256",
    )
    assert verified_email({"token": forged}) is None
    assert verified_email({"token": website_rs256("admin@acme.example", minutes=-1)}) is None


def test_production_without_any_key_refuses_to_start_and_refuses_channel_tokens(monkeypatch) -> None:
    channel_token = issue_channel_token("admin@acme.example")  # signed with the development secret
    for name in ("AUTH_JWT_SECRET", "AUTH_JWT_PUBLIC_KEY", "CHANNEL_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(InsecureConfiguration):
        check_configuration()
    assert verified_email({"token": channel_token}) is None  # no crash, no identity
    monkeypatch.setenv("AUTH_JWT_PUBLIC_KEY", PUBLIC_PEM)
    check_configuration()
    assert verified_email({"token": website_rs256("admin@acme.example")}) == "admin@acme.example"
