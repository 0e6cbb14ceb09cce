"""Who the customer is: only a signed JWT from the channel metadata says so (never the chat text).

The host website signs `{"sub": email, "exp": ...}` with HS256 and AUTH_JWT_SECRET, or with
RS256 when AUTH_JWT_PUBLIC_KEY holds a PEM public key. Our own channels (a linked messenger user)
sign short tokens themselves, marked `"iss": "assistant-channel"`, with HS256 and
CHANNEL_TOKEN_SECRET (default: AUTH_JWT_SECRET), so they also work when the website uses RS256.
Anything missing, expired, malformed or badly signed means anonymous.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Optional

import jwt

from support.settings import InsecureConfiguration, environment, is_production

logger = logging.getLogger(__name__)

# Development only: `make run` works out of the box, and production refuses it (see jwt_secret).
DEV_SECRET = "dev-only-secret-DO-NOT-USE-IN-PRODUCTION"


def jwt_secret() -> str:
    secret = environment().auth_jwt_secret
    if secret:
        return secret
    if is_production():
        raise InsecureConfiguration("AUTH_JWT_SECRET must be set when APP_ENV=production")
    return DEV_SECRET


CHANNEL_ISSUER = "assistant-channel"


def channel_secret() -> str:
    return environment().channel_token_secret or jwt_secret()


def _verification_key(token: str) -> tuple[str, str]:
    """The website's key, or the channels' secret for a token our channels issued."""
    try:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError:
        issuer = None
    if issuer == CHANNEL_ISSUER:
        return channel_secret(), "HS256"
    public_key = environment().auth_jwt_public_key
    return (public_key, "RS256") if public_key else (jwt_secret(), "HS256")


def verified_email(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """The email of the signed-in customer, or None for anyone else."""
    token = (metadata or {}).get("token")
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        key, algorithm = _verification_key(token)
        claims = jwt.decode(token, key, algorithms=[algorithm], options={"require": ["sub", "exp"]})
    except (jwt.PyJWTError, InsecureConfiguration) as error:
        logger.info("token refused: %s", type(error).__name__)
        return None
    subject = claims.get("sub")
    return subject.strip().lower() if isinstance(subject, str) and "@" in subject else None


def issue_token(email: str, minutes: int = 60, secret: Optional[str] = None) -> str:
    """A token as the host website would sign it (HS256); for demos and tests."""
    claims = {"sub": email, "exp": datetime.now(timezone.utc) + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret or jwt_secret(), algorithm="HS256")


def issue_channel_token(email: str, minutes: int = 5) -> str:
    """A short token our own channels attach for a customer they identified (a linked messenger user)."""
    claims = {"sub": email, "iss": CHANNEL_ISSUER, "exp": datetime.now(timezone.utc) + timedelta(minutes=minutes)}
    return jwt.encode(claims, channel_secret(), algorithm="HS256")
