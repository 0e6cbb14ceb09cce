"""A loopback stand-in for a helpdesk that answers back: it POSTs Chatwoot's real webhook payloads
(tests/fixtures/chatwoot) the way Chatwoot's lib/webhooks/trigger.rb does (compact JSON, X-Chatwoot-Delivery,
X-Chatwoot-Timestamp, X-Chatwoot-Signature), and the generic inbound API's signed JSON."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from pathlib import Path
from typing import Any, Dict

import requests

from tests.helpers.server import CHATWOOT_WEBHOOK_SECRET, CHATWOOT_WEBHOOK_TOKEN, HELPDESK_SECRET, Assistant

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "chatwoot"


def chatwoot(name: str) -> Dict[str, Any]:
    """One of Chatwoot's webhook payloads, as its v4.15.1 source builds it (tests/fixtures/chatwoot/README.md)."""
    return json.loads((FIXTURES / f"{name}.json").read_text("utf-8"))


def chatwoot_event(name: str, reference: str, conversation: int, **changes: Any) -> Dict[str, Any]:
    """A fixture with this ticket's reference and Chatwoot conversation id."""
    payload = chatwoot(name)
    holder = payload["conversation"] if name.startswith("message") else payload
    holder["id"], holder["custom_attributes"]["reference"] = conversation, reference
    return {**payload, **changes}


def post_chatwoot(
    assistant: Assistant,
    payload: Dict[str, Any],
    token: str = CHATWOOT_WEBHOOK_TOKEN,
    secret: str = CHATWOOT_WEBHOOK_SECRET,
    stamp: int | None = None,
) -> requests.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    stamp = int(time.time()) if stamp is None else stamp
    signature = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-Chatwoot-Delivery": str(uuid.uuid4()),
        "X-Chatwoot-Timestamp": str(stamp),
        "X-Chatwoot-Signature": f"sha256={signature}",
    }
    return requests.post(f"{assistant.url}/agent/helpdesk/chatwoot/{token}", data=body, headers=headers, timeout=30)


def post_generic(assistant: Assistant, payload: Dict[str, Any], secret: str = HELPDESK_SECRET) -> requests.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Helpdesk-Signature-256": f"sha256={digest}"}
    return requests.post(f"{assistant.url}/agent/helpdesk/inbound", data=body, headers=headers, timeout=30)
