"""The security plumbing the messenger channels share.

- Request verification: Telegram's secret token header, Messenger's X-Hub-Signature-256, Slack's
  v0 signature with its timestamp window; every comparison in constant time.
- Replay protection: `DeliveryLog` remembers which platform deliveries (update_id, mid, event_id)
  were already taken, so a platform retry is answered but not processed twice.
- `platform_call`: the one way out to a platform API (aiohttp, with a timeout), which logs what went
  wrong without ever logging a token or a URL that contains one, and never raises.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json as json_module
import logging
import time
from typing import Any, Dict, Iterable, Optional

import aiohttp
from sanic import response
from sanic.response import HTTPResponse

from channels.shared_keys import SharedKeys

logger = logging.getLogger(__name__)

SLACK_MAX_AGE_SECONDS = 5 * 60
API_TIMEOUT_SECONDS = 10.0


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def same_secret(given: Optional[Any], expected: Optional[Any]) -> bool:
    """Constant-time equality; a missing or empty value is never equal."""
    if not given or not expected:
        return False
    return hmac.compare_digest(_bytes(given), _bytes(expected))


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(_bytes(secret), message, hashlib.sha256).hexdigest()


def telegram_secret_ok(header: Optional[str], secret: str) -> bool:
    """X-Telegram-Bot-Api-Secret-Token is the secret_token given to setWebhook."""
    return same_secret(header, secret)


def facebook_signature_ok(raw_body: bytes, header: Optional[str], app_secret: str) -> bool:
    """X-Hub-Signature-256 = "sha256=" + HMAC-SHA256(app secret, raw body)."""
    if not header or not header.startswith("sha256="):
        return False
    return same_secret(header, "sha256=" + hmac_sha256_hex(app_secret, raw_body))


def slack_signature_ok(
    raw_body: bytes,
    timestamp: Optional[str],
    signature: Optional[str],
    signing_secret: str,
    now: Optional[float] = None,
    max_age: int = SLACK_MAX_AGE_SECONDS,
) -> bool:
    """X-Slack-Signature = "v0=" + HMAC-SHA256(signing secret, "v0:{timestamp}:{raw body}"), and the
    timestamp within `max_age` seconds of now (a replayed old request is refused)."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(timestamp)) > max_age:
        return False
    expected = "v0=" + hmac_sha256_hex(signing_secret, b"v0:" + timestamp.encode("ascii") + b":" + raw_body)
    return same_secret(signature, expected)


def not_configured() -> HTTPResponse:
    return response.json({"error": "channel not configured"}, status=404)


def unauthorized() -> HTTPResponse:
    return response.json({"error": "invalid signature"}, status=401)


class DeliveryLog:
    """Delivery ids already taken, forgotten after `ttl` seconds: shared by every replica with REDIS_URL (a
    platform's retry landing on another replica is still processed once), else remembered by this process."""

    def __init__(
        self, prefix: str = "", ttl: float = 24 * 3600, max_entries: int = 100_000, redis_url: Optional[str] = None
    ) -> None:
        self.ttl = ttl
        self.keys = SharedKeys(f"delivery:{prefix}", redis_url, max_entries)

    async def first_time(self, key: Optional[str]) -> bool:
        """True the first time `key` is seen (and remembers it); a missing key is always new."""
        return True if not key else await self.keys.add(key, self.ttl)


def mask_secrets(text: str, secrets: Iterable[Optional[str]]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


async def platform_call(
    platform: str,
    method: str,
    url: str,
    *,
    secrets: Iterable[Optional[str]],
    json: Optional[Dict[str, Any]] = None,
    params: Optional[Dict[str, str]] = None,
    headers: Optional[Dict[str, str]] = None,
    timeout: float = API_TIMEOUT_SECONDS,
) -> Optional[Any]:
    """POSTs `json` to a platform API; the decoded answer, or None when the call failed (logged)."""
    secrets = list(secrets)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(url, json=json, params=params, headers=headers) as answer:
                text = await answer.text()
                try:
                    body: Any = json_module.loads(text) if text else None
                except ValueError:
                    body = None
                refused = answer.status >= 400 or (isinstance(body, dict) and body.get("ok") is False)
                if refused:
                    detail = body.get("description") or body.get("error") if isinstance(body, dict) else None
                    logger.warning(
                        "%s API %s refused (HTTP %s): %s",
                        platform,
                        method,
                        answer.status,
                        mask_secrets(str(detail or text[:200]), secrets),
                    )
                    return None
                return body
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
        logger.warning(
            "%s API %s unreachable: %s %s",
            platform,
            method,
            type(error).__name__,
            mask_secrets(str(error), secrets)[:200],
        )
        return None
