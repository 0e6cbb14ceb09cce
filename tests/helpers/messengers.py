"""Telegram, Messenger and Slack webhooks as the platforms send them, signed the way each platform signs them
(computed here, independently of channels/messengers/signatures.py), and the stand-in's calls read back.

Shared by tests/e2e/test_messenger_channels.py and the hostile-input suite (tests/helpers/hostile.py). The
secrets are drawn once per test process; `messenger_env` switches the three channels on with them and points
their API bases at a PlatformStandIn (tests/helpers/platform_standin.py).

Every `post_*` takes an optional `http` (a requests.Session, for keep-alive in a loop; `requests` otherwise)
and the `*_raw` variants post bytes as they are, so that a test can sign a body that is not valid JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlencode

import pytest
import requests

from tests.helpers.platform_standin import Call, PlatformStandIn
from tests.helpers.server import Assistant

TELEGRAM_TOKEN = "7000000001:AAF-standin-telegram-bot-token"
TELEGRAM_SECRET = "tg-webhook-secret-" + uuid.uuid4().hex
FACEBOOK_TOKEN = "EAAstandinpageaccesstoken" + uuid.uuid4().hex
FACEBOOK_APP_SECRET = "fb-app-secret-" + uuid.uuid4().hex
FACEBOOK_VERIFY = "fb-verify-" + uuid.uuid4().hex
SLACK_TOKEN = "xoxb-standin-" + uuid.uuid4().hex
SLACK_SECRET = "slack-signing-" + uuid.uuid4().hex
SECRETS = (
    TELEGRAM_TOKEN,
    TELEGRAM_SECRET,
    FACEBOOK_TOKEN,
    FACEBOOK_APP_SECRET,
    FACEBOOK_VERIFY,
    SLACK_TOKEN,
    SLACK_SECRET,
)
PAGE_ID = "104857600000001"
_ids = itertools.count(int(time.time()) % 100_000 * 1000)

HTTP = Any  # the requests module, or a requests.Session


def new_id() -> int:
    """A number no other conversation of this test process uses (chat ids, PSIDs, Slack user ids)."""
    return next(_ids)


def messenger_env(standin: PlatformStandIn) -> Dict[str, str]:
    """The environment that switches the three channels on, their APIs being the stand-in."""
    return {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE": standin.telegram_base,
        "FACEBOOK_PAGE_ACCESS_TOKEN": FACEBOOK_TOKEN,
        "FACEBOOK_APP_SECRET": FACEBOOK_APP_SECRET,
        "FACEBOOK_VERIFY_TOKEN": FACEBOOK_VERIFY,
        "FACEBOOK_API_BASE": standin.facebook_base,
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_BASE": standin.slack_base,
    }


# --- Telegram -------------------------------------------------------------------------------------------


def telegram_update(
    chat: int, text: Any, language: Optional[str] = "en", update_id: Optional[int] = None
) -> Dict[str, Any]:
    user: Dict[str, Any] = {"id": chat, "is_bot": False, "first_name": "Camille"}
    if language is not None:
        user["language_code"] = language
    return {
        "update_id": update_id or new_id(),
        "message": {
            "message_id": new_id(),
            "from": user,
            "date": int(time.time()),
            "chat": {"id": chat, "first_name": "Camille", "type": "private"},
            "text": text,
        },
    }


def telegram_click(chat: int, data: Any, language: Optional[str] = "en") -> Dict[str, Any]:
    user: Dict[str, Any] = {"id": chat, "is_bot": False, "first_name": "Camille"}
    if language is not None:
        user["language_code"] = language
    return {
        "update_id": new_id(),
        "callback_query": {
            "id": str(new_id()),
            "from": user,
            "chat_instance": "-4242",
            "data": data,
            "message": {
                "message_id": new_id(),
                "date": int(time.time()),
                "text": "…",
                "from": {"id": 7000000001, "is_bot": True, "first_name": "Support"},
                "chat": {"id": chat, "first_name": "Camille", "type": "private"},
            },
        },
    }


def post_telegram_raw(
    assistant: Assistant, raw: bytes, secret: Optional[str] = TELEGRAM_SECRET, http: HTTP = requests
) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return http.post(f"{assistant.url}/webhooks/telegram/webhook", data=raw, headers=headers, timeout=90)


def post_telegram(
    assistant: Assistant, update: Any, secret: Optional[str] = TELEGRAM_SECRET, http: HTTP = requests
) -> requests.Response:
    return post_telegram_raw(assistant, json.dumps(update).encode(), secret, http)


# --- Messenger ------------------------------------------------------------------------------------------


def facebook_event(
    psid: str,
    text: Any = "",
    quick_reply: Optional[str] = None,
    postback: Optional[str] = None,
    mid: Optional[str] = None,
) -> Dict[str, Any]:
    now = int(time.time() * 1000)
    event: Dict[str, Any] = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now}
    if postback:
        event["postback"] = {"title": "Get Started", "payload": postback, "mid": mid or f"m_{uuid.uuid4().hex}"}
    else:
        event["message"] = {"mid": mid or f"m_{uuid.uuid4().hex}", "text": text}
        if quick_reply:
            event["message"]["quick_reply"] = {"payload": quick_reply}
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": now, "messaging": [event]}]}


def facebook_signature(raw: bytes, secret: str = FACEBOOK_APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def post_facebook_raw(
    assistant: Assistant, raw: bytes, signature: Optional[str] = "valid", http: HTTP = requests
) -> requests.Response:
    headers = {"Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Hub-Signature-256"] = facebook_signature(raw)
    elif signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return http.post(f"{assistant.url}/webhooks/facebook/webhook", data=raw, headers=headers, timeout=30)


def post_facebook(
    assistant: Assistant, body: Any, signature: Optional[str] = "valid", http: HTTP = requests
) -> requests.Response:
    return post_facebook_raw(assistant, json.dumps(body).encode(), signature, http)


# --- Slack ----------------------------------------------------------------------------------------------


def slack_event(
    user: str, text: Any, channel: Optional[str] = None, event_id: Optional[str] = None, **extra: Any
) -> Dict[str, Any]:
    ts = f"{time.time():.6f}"
    event = {
        "type": "message",
        "channel": channel or f"D{user[1:]}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }
    return {
        "token": "legacy-verification-token",
        "team_id": "T0STANDIN",
        "api_app_id": "A0STANDIN",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": "T0STANDIN", "user_id": "U0BOT", "is_bot": True}],
    }


def slack_signature(raw: bytes, timestamp: str, secret: str = SLACK_SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def slack_headers(
    raw: bytes,
    timestamp: Optional[int] = None,
    signature: Optional[str] = "valid",
    content_type: str = "application/json",
) -> Dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp}
    if signature == "valid":
        headers["X-Slack-Signature"] = slack_signature(raw, stamp)
    elif signature is not None:
        headers["X-Slack-Signature"] = signature
    return headers


def post_slack_raw(
    assistant: Assistant,
    raw: bytes,
    timestamp: Optional[int] = None,
    signature: Optional[str] = "valid",
    headers: Optional[Dict[str, str]] = None,
    path: str = "webhook",
    http: HTTP = requests,
) -> requests.Response:
    content_type = "application/json" if path == "webhook" else "application/x-www-form-urlencoded"
    return http.post(
        f"{assistant.url}/webhooks/slack/{path}",
        data=raw,
        headers={**slack_headers(raw, timestamp, signature, content_type), **(headers or {})},
        timeout=30,
    )


def post_slack(
    assistant: Assistant,
    body: Any,
    timestamp: Optional[int] = None,
    signature: Optional[str] = "valid",
    headers: Optional[Dict[str, str]] = None,
    http: HTTP = requests,
) -> requests.Response:
    return post_slack_raw(assistant, json.dumps(body).encode(), timestamp, signature, headers, http=http)


def slack_click_payload(user: str, value: Any) -> Dict[str, Any]:
    channel = f"D{user[1:]}"
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "camille", "team_id": "T0STANDIN"},
        "api_app_id": "A0STANDIN",
        "token": "legacy-verification-token",
        "trigger_id": uuid.uuid4().hex,
        "team": {"id": "T0STANDIN", "domain": "acme"},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel, "name": "directmessage"},
        "response_url": "https://hooks.slack.com/actions/T0/1/x",
        "actions": [
            {
                "action_id": "button_0",
                "block_id": "b1",
                "type": "button",
                "value": value,
                "text": {"type": "plain_text", "text": "…", "emoji": True},
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }


def slack_click(
    assistant: Assistant, user: str, value: Any, signature: Optional[str] = "valid", http: HTTP = requests
) -> requests.Response:
    raw = urlencode({"payload": json.dumps(slack_click_payload(user, value))}).encode()
    return post_slack_raw(assistant, raw, signature=signature, path="interactive", http=http)


# --- what came back -------------------------------------------------------------------------------------


def user_events(assistant: Assistant, sender: str) -> List[dict]:
    return [event for event in assistant.tracker(sender)["events"] if event["event"] == "user"]


def wait_turns(assistant: Assistant, sender: str, turns: int, timeout: float = 60) -> List[dict]:
    """The conversation's events once `turns` user messages have been answered (tracker saved)."""
    deadline = time.monotonic() + timeout
    while True:
        events = assistant.tracker(sender)["events"]
        users = [index for index, event in enumerate(events) if event["event"] == "user"]
        if len(users) >= turns and any(
            e["event"] == "action" and e.get("name") == "action_listen" for e in events[users[-1] :]
        ):
            return events
        if time.monotonic() > deadline:
            pytest.fail(f"{sender}: {len(users)} of {turns} turns answered")
        time.sleep(0.2)


def to_telegram(chat: Any, method: str = "sendMessage") -> Callable[[Call], bool]:
    return lambda call: (
        call.platform == "telegram" and call.method == method and str((call.body or {}).get("chat_id")) == str(chat)
    )


def to_facebook(psid: str) -> Callable[[Call], bool]:
    return lambda call: call.platform == "facebook" and ((call.body or {}).get("recipient") or {}).get("id") == psid


def to_slack(channel: str) -> Callable[[Call], bool]:
    return lambda call: call.platform == "slack" and (call.body or {}).get("channel") == channel


def texts(calls: List[Call]) -> str:
    return "\n".join(call.text for call in calls)
