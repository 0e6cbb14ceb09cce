"""Who the customer is: only what a channel verified says so (never the chat text, never the sender id).

1. At the edge, a channel verifies the host website's signed token (`verified_token`): `{"sub": email,
   "exp": ...}` signed with HS256 and AUTH_JWT_SECRET, or RS256 when AUTH_JWT_PUBLIC_KEY holds a PEM
   public key; a linked messenger user is known from the link instead.
2. The channel then puts an attestation in the message's metadata instead of the token (`attest`): the
   email, bound to the conversation, valid a few minutes, signed with CHANNEL_TOKEN_SECRET (default:
   AUTH_JWT_SECRET). The customer's token never reaches the conversation store or the logs.
3. The actions accept the attestation of their own conversation only (`verified_email`).
Anything missing, expired, malformed or badly signed means anonymous.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
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
        raise InsecureConfiguration("AUTH_JWT_SECRET must be set outside development (APP_ENV=development)")
    return DEV_SECRET


IDENTITY = "identity"  # the metadata key of a channel's attestation
ATTESTATION_MINUTES = 5


def channel_secret() -> str:
    return environment().channel_token_secret or jwt_secret()


@dataclass(frozen=True)
class Customer:
    """A customer a channel verified: their email, and until when the proof holds."""

    email: str
    expires: datetime


def verified_token(token: object) -> Optional[Customer]:
    """The customer the host website's signed token names, or None (missing, expired, malformed, badly
    signed, or signed with the development secret outside development)."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        return None
    try:
        public_key = environment().auth_jwt_public_key
        key, algorithm = (public_key, "RS256") if public_key else (jwt_secret(), "HS256")
        claims = jwt.decode(token, key, algorithms=[algorithm], options={"require": ["sub", "exp"]})
    except (jwt.PyJWTError, InsecureConfiguration, ValueError) as error:
        logger.info("token refused: %s", type(error).__name__)
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or "@" not in subject:
        return None
    return Customer(subject.strip().lower(), datetime.fromtimestamp(int(claims["exp"]), tz=timezone.utc))


def _signature(email: str, conversation_id: str, until: int) -> str:
    message = f"{email}\n{conversation_id}\n{until}".encode()
    return hmac.new(channel_secret().encode(), message, hashlib.sha256).hexdigest()


def attest(email: str, conversation_id: str, expires: Optional[datetime] = None) -> Dict[str, Any]:
    """What a channel puts in a message's metadata (under IDENTITY) once it verified who the customer is:
    the email, bound to this conversation and valid at most ATTESTATION_MINUTES, signed with the channels'
    secret. The customer's own token is never stored; this proof is worth nothing in another conversation."""
    until = datetime.now(timezone.utc) + timedelta(minutes=ATTESTATION_MINUTES)
    stamp = int(min(until, expires or until).timestamp())
    return {"email": email, "until": stamp, "signature": _signature(email, conversation_id, stamp)}


def verified_email(metadata: Optional[Dict[str, Any]], conversation_id: str) -> Optional[str]:
    """The email a channel attested for this conversation's message, or None for anyone else."""
    identity = (metadata or {}).get(IDENTITY) if isinstance(metadata, dict) else None
    if not isinstance(identity, dict):
        return None
    email, until, signature = identity.get("email"), identity.get("until"), identity.get("signature")
    if not (isinstance(email, str) and isinstance(until, int) and isinstance(signature, str)):
        return None
    if until < datetime.now(timezone.utc).timestamp():
        return None
    try:
        expected = _signature(email, conversation_id, until)
    except InsecureConfiguration:
        return None
    return email if hmac.compare_digest(expected.encode(), signature.encode()) else None


def issue_token(email: str, minutes: int = 60, secret: Optional[str] = None) -> str:
    """A token as the host website would sign it (HS256); for demos and tests."""
    claims = {"sub": email, "exp": datetime.now(timezone.utc) + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret or jwt_secret(), algorithm="HS256")
