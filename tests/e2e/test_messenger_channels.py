"""Telegram, Messenger and Slack channels against the running assistant and a stand-in of the platforms.

The assistant (both servers, scripts/run.sh) runs on its own fresh SQLite demo database with the
three channels switched on by their environment variables and their API bases pointing at the
loopback stand-in (tests/helpers/platform_standin.py). Webhooks are posted in the platforms' own formats,
signed the way each platform signs them (tests/helpers/messengers.py, independently of channels/signatures.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
import requests

from support.identity import issue_token
from tests.helpers.messengers import (
    FACEBOOK_TOKEN,
    FACEBOOK_VERIFY,
    SECRETS,
    SLACK_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    facebook_event,
    messenger_env,
    new_id,
    post_facebook,
    post_slack,
    post_telegram,
    slack_click,
    slack_event,
    telegram_click,
    telegram_update,
    texts,
    to_facebook,
    to_slack,
    to_telegram,
    user_events,
    wait_turns,
)
from tests.helpers.platform_standin import PlatformStandIn
from tests.helpers.server import ROOT, Assistant, prepare_database, running_assistant

RASA_PORT, ACTIONS_PORT = 15007, 15057
RENEWAL = "why did my renewal fail?"


@pytest.fixture(scope="module")
def standin() -> Iterator[PlatformStandIn]:
    with PlatformStandIn(TELEGRAM_TOKEN, FACEBOOK_TOKEN, SLACK_TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def messenger(standin: PlatformStandIn, tmp_path_factory) -> Iterator[Assistant]:
    database = tmp_path_factory.mktemp("messengers") / "assistant.db"
    prepare_database(f"sqlite:///{database}")
    env = {
        **messenger_env(standin),
        "ALLOWED_ORIGINS": "https://www.example.com,https://shop.example.com",  # the sites that ask for codes
    }
    with running_assistant(RASA_PORT, ACTIONS_PORT, f"sqlite:///{database}", database, env, SECRETS) as server:
        yield server


# --- what came back ----------------------------------------------------------------------------------


SENTINEL = "thanks, that's all"


def texts_after_sentinel(assistant: Assistant, sender: str, post_sentinel: Callable[[str], Any]) -> List[str]:
    """Posts a valid SENTINEL message to the conversation and waits until its turn is over; then the
    conversation's user messages. A conversation's messages are handled in arrival order, so whatever the
    channel did with an earlier message (refused, ignored, processed) is in the tracker by then."""
    post_sentinel(SENTINEL)
    deadline = time.monotonic() + 60
    while True:
        events = assistant.tracker(sender)["events"]
        last_user = max(
            (n for n, e in enumerate(events) if e["event"] == "user" and e.get("text") == SENTINEL), default=None
        )
        if last_user is not None and any(
            e["event"] == "action" and e.get("name") == "action_listen" for e in events[last_user:]
        ):
            return [e["text"] for e in events if e["event"] == "user"]
        if time.monotonic() > deadline:
            pytest.fail(f"{sender}: the sentinel was not answered")
        time.sleep(0.2)


def sentinel_replies(assistant: Assistant, sender: str) -> int:
    """How many messages the bot sent in the sentinel's turn (what the platform should have received)."""
    events = assistant.tracker(sender)["events"]
    start = max(n for n, e in enumerate(events) if e["event"] == "user" and e.get("text") == SENTINEL)
    return sum(1 for e in events[start:] if e["event"] == "bot")


# --- Telegram ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language, text, greeting", [("fr", "bonjour", "Bonjour"), ("en", "hello", "Hi")])
def test_telegram_answers_in_the_users_language(messenger, standin, language, text, greeting) -> None:
    chat = new_id()
    answer = post_telegram(messenger, telegram_update(chat, text, language))
    assert answer.status_code == 200, answer.text
    calls = standin.calls_for(to_telegram(chat))  # Telegram's updates are answered before the 200
    assert calls and greeting in calls[0].text, texts(calls)
    assert calls[0].path == f"/telegram/bot{TELEGRAM_TOKEN}/sendMessage"
    metadata = user_events(messenger, f"telegram-{chat}")[0]["metadata"]
    assert metadata["locale"] == language and "token" not in metadata


def test_telegram_buttons_are_an_inline_keyboard_and_a_click_sends_the_payload(messenger, standin) -> None:
    chat = new_id()
    post_telegram(messenger, telegram_update(chat, "comment résilier mon abonnement ?", "fr"))
    with_buttons = [c for c in standin.calls_for(to_telegram(chat)) if "reply_markup" in c.body]
    assert with_buttons and "résilier" in with_buttons[0].text
    keyboard = with_buttons[0].body["reply_markup"]["inline_keyboard"]
    assert all(len(row) == 1 and row[0]["callback_data"].startswith("/") for row in keyboard), keyboard
    payload = keyboard[0][0]["callback_data"]
    click = telegram_click(chat, payload, "fr")
    assert post_telegram(messenger, click).status_code == 200
    acknowledged = standin.calls_for(
        lambda c: c.method == "answerCallbackQuery" and c.body.get("callback_query_id") == click["callback_query"]["id"]
    )
    assert len(acknowledged) == 1
    assert user_events(messenger, f"telegram-{chat}")[-1]["text"] == payload
    assert len(standin.calls_for(to_telegram(chat))) > len(with_buttons)


@pytest.mark.parametrize("secret", [None, "forged-secret", TELEGRAM_SECRET[:-1]])
def test_telegram_refuses_a_missing_or_forged_secret(messenger, standin, secret) -> None:
    chat = new_id()
    answer = post_telegram(messenger, telegram_update(chat, "hello"), secret=secret)
    assert answer.status_code == 401
    sender = f"telegram-{chat}"
    assert texts_after_sentinel(messenger, sender, lambda t: post_telegram(messenger, telegram_update(chat, t))) == [
        SENTINEL
    ]
    assert len(standin.wait_for(to_telegram(chat), sentinel_replies(messenger, sender))) == sentinel_replies(
        messenger, sender
    )


def test_telegram_processes_a_redelivered_update_once(messenger, standin) -> None:
    chat = new_id()
    update = telegram_update(chat, "hello")
    assert post_telegram(messenger, update).status_code == 200
    replies = len(standin.calls_for(to_telegram(chat)))
    assert post_telegram(messenger, update).status_code == 200
    assert len(standin.calls_for(to_telegram(chat))) == replies
    assert len(user_events(messenger, f"telegram-{chat}")) == 1


# --- Messenger -------------------------------------------------------------------------------------------


def test_facebook_subscription_check(messenger) -> None:
    url = f"{messenger.url}/webhooks/facebook/webhook"
    ok = requests.get(
        url,
        params={"hub.mode": "subscribe", "hub.verify_token": FACEBOOK_VERIFY, "hub.challenge": "1158201444"},
        timeout=10,
    )
    assert (ok.status_code, ok.text) == (200, "1158201444")
    wrong = requests.get(
        url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}, timeout=10
    )
    assert wrong.status_code == 403 and "1158201444" not in wrong.text


@pytest.mark.parametrize("text, greeting", [("Bonjour !", "Bonjour"), ("Hello!", "Hi")])
def test_facebook_answers_in_the_users_language(messenger, standin, text, greeting) -> None:
    psid = str(new_id())
    answer = post_facebook(messenger, facebook_event(psid, text))
    assert (answer.status_code, answer.text) == (200, "EVENT_RECEIVED")
    wait_turns(messenger, f"facebook-{psid}", 1)
    calls = standin.calls_for(to_facebook(psid))
    assert calls and greeting in calls[0].text, texts(calls)
    assert calls[0].query == {"access_token": FACEBOOK_TOKEN} and calls[0].body["messaging_type"] == "RESPONSE"


def test_facebook_buttons_are_quick_replies_and_a_tap_sends_the_payload(messenger, standin) -> None:
    psid = str(new_id())
    post_facebook(messenger, facebook_event(psid, "how do I cancel my subscription?"))
    wait_turns(messenger, f"facebook-{psid}", 1)
    with_buttons = [c for c in standin.calls_for(to_facebook(psid)) if "quick_replies" in c.body["message"]]
    assert with_buttons and "cancel" in with_buttons[0].text
    replies = with_buttons[0].body["message"]["quick_replies"]
    assert all(
        r["content_type"] == "text" and 0 < len(r["title"]) <= 20 and r["payload"].startswith("/") for r in replies
    ), replies
    post_facebook(messenger, facebook_event(psid, replies[0]["title"], quick_reply=replies[0]["payload"]))
    post_facebook(messenger, facebook_event(psid, postback="/greet"))
    events = wait_turns(messenger, f"facebook-{psid}", 3)
    assert [e["text"] for e in events if e["event"] == "user"][1:] == [replies[0]["payload"], "/greet"]


@pytest.mark.parametrize("signature", [None, "sha256=" + "0" * 64, "sha1=abc", "forged-with-other-secret"])
def test_facebook_refuses_a_missing_or_forged_signature(messenger, standin, signature) -> None:
    psid = str(new_id())
    body = facebook_event(psid, "hello")
    if signature == "forged-with-other-secret":
        signature = "sha256=" + hmac.new(b"not-the-app-secret", json.dumps(body).encode(), hashlib.sha256).hexdigest()
    assert post_facebook(messenger, body, signature=signature).status_code == 401
    sender = f"facebook-{psid}"
    assert texts_after_sentinel(messenger, sender, lambda t: post_facebook(messenger, facebook_event(psid, t))) == [
        SENTINEL
    ]
    assert len(standin.wait_for(to_facebook(psid), sentinel_replies(messenger, sender))) == sentinel_replies(
        messenger, sender
    )


def test_facebook_processes_a_redelivered_message_once(messenger, standin) -> None:
    psid = str(new_id())
    body = facebook_event(psid, "hello", mid=f"m_{uuid.uuid4().hex}")
    assert post_facebook(messenger, body).status_code == 200
    assert post_facebook(messenger, body).status_code == 200
    assert texts_after_sentinel(
        messenger, f"facebook-{psid}", lambda t: post_facebook(messenger, facebook_event(psid, t))
    ) == ["hello", SENTINEL]


def test_facebook_ignores_the_pages_own_echoes(messenger, standin) -> None:
    psid = str(new_id())
    body = facebook_event(psid, "hello")
    body["entry"][0]["messaging"][0]["message"]["is_echo"] = True
    assert post_facebook(messenger, body).status_code == 200
    assert texts_after_sentinel(
        messenger, f"facebook-{psid}", lambda t: post_facebook(messenger, facebook_event(psid, t))
    ) == [SENTINEL]


# --- Slack -----------------------------------------------------------------------------------------------


def test_slack_url_verification(messenger) -> None:
    body = {
        "token": "legacy",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    answer = post_slack(messenger, body)
    assert answer.status_code == 200 and answer.json() == {"challenge": body["challenge"]}
    assert post_slack(messenger, body, signature=None).status_code == 401


@pytest.mark.parametrize("text, greeting", [("Bonjour !", "Bonjour"), ("Hello!", "Hi")])
def test_slack_answers_in_the_users_language(messenger, standin, text, greeting) -> None:
    user = f"U{new_id()}"
    answer = post_slack(messenger, slack_event(user, text))
    assert answer.status_code == 200
    wait_turns(messenger, f"slack-{user}", 1)
    calls = standin.calls_for(to_slack(f"D{user[1:]}"))
    assert calls and greeting in calls[0].text, texts(calls)
    assert calls[0].headers["authorization"] == f"Bearer {SLACK_TOKEN}"


def test_slack_buttons_are_blocks_and_a_click_sends_the_value(messenger, standin) -> None:
    user = f"U{new_id()}"
    post_slack(messenger, slack_event(user, "comment résilier mon abonnement ?"))
    wait_turns(messenger, f"slack-{user}", 1)
    with_buttons = [c for c in standin.calls_for(to_slack(f"D{user[1:]}")) if c.body.get("blocks")]
    assert with_buttons and "résilier" in with_buttons[0].text
    blocks = with_buttons[0].body["blocks"]
    assert blocks[0]["type"] == "section" and "résilier" in blocks[0]["text"]["text"]
    actions = [block for block in blocks if block["type"] == "actions"]
    buttons = actions[0]["elements"]
    assert all(
        b["type"] == "button" and b["value"].startswith("/") and b["text"]["type"] == "plain_text" for b in buttons
    ), buttons
    assert len({b["action_id"] for b in buttons}) == len(buttons)
    assert slack_click(messenger, user, buttons[0]["value"], signature=None).status_code == 401
    assert slack_click(messenger, user, buttons[0]["value"]).status_code == 200
    events = wait_turns(messenger, f"slack-{user}", 2)
    assert [e["text"] for e in events if e["event"] == "user"][-1] == buttons[0]["value"]


@pytest.mark.parametrize("case", ["missing", "forged", "other secret", "stale", "future"])
def test_slack_refuses_bad_signatures_and_stale_timestamps(messenger, standin, case) -> None:
    user = f"U{new_id()}"
    body = slack_event(user, "hello")
    raw = json.dumps(body).encode()
    now = int(time.time())
    if case == "missing":
        answer = post_slack(messenger, body, signature=None)
    elif case == "forged":
        answer = post_slack(messenger, body, signature="v0=" + "a" * 64)
    elif case == "other secret":
        forged = "v0=" + hmac.new(b"guess", f"v0:{now}:".encode() + raw, hashlib.sha256).hexdigest()
        answer = post_slack(messenger, body, timestamp=now, signature=forged)
    else:  # correctly signed, but 6 minutes away from now: a replay
        answer = post_slack(messenger, body, timestamp=now - 360 if case == "stale" else now + 360)
    assert answer.status_code == 401
    sender = f"slack-{user}"
    assert texts_after_sentinel(messenger, sender, lambda t: post_slack(messenger, slack_event(user, t))) == [SENTINEL]
    assert len(standin.wait_for(to_slack(f"D{user[1:]}"), sentinel_replies(messenger, sender))) == sentinel_replies(
        messenger, sender
    )


def test_slack_processes_a_retried_event_once_and_ignores_bots(messenger, standin) -> None:
    user = f"U{new_id()}"
    body = slack_event(user, "hello")
    assert post_slack(messenger, body).status_code == 200
    retry = post_slack(messenger, body, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    bot = slack_event(user, "Hi! I'm the support assistant", bot_id="B0STANDIN")
    assert post_slack(messenger, bot).status_code == 200
    edited = slack_event(user, "hello again", subtype="message_changed")
    assert post_slack(messenger, edited).status_code == 200
    assert texts_after_sentinel(messenger, f"slack-{user}", lambda t: post_slack(messenger, slack_event(user, t))) == [
        "hello",
        SENTINEL,
    ]


# --- account linking ------------------------------------------------------------------------------------


def link_code(assistant: Assistant, email: str = "admin@acme.example") -> str:
    answer = requests.post(
        f"{assistant.url}/link/code", headers={"Authorization": f"Bearer {issue_token(email)}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["expires_in"] == 600 and len(body["code"]) == 6 and body["expires_at"]
    assert answer.headers.get("Cache-Control") == "no-store"
    return body["code"]


def test_a_link_code_needs_a_valid_token(messenger) -> None:
    url = f"{messenger.url}/link/code"
    assert requests.post(url, timeout=10).status_code == 401
    assert requests.post(url, headers={"Authorization": "Bearer not-a-jwt"}, timeout=10).status_code == 401
    forged = issue_token("admin@acme.example", secret="not-the-server-secret-but-just-as-long-0123456789")
    assert requests.post(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code == 401
    expired = issue_token("admin@acme.example", minutes=-1)
    assert requests.post(url, headers={"Authorization": f"Bearer {expired}"}, timeout=10).status_code == 401


class Platform:
    """Says something on one platform as one user, and reads what the bot answered since."""

    def __init__(self, name: str, assistant: Assistant, standin: PlatformStandIn) -> None:
        self.name, self.assistant, self.standin = name, assistant, standin
        self.user = str(new_id()) if name != "slack" else f"U{new_id()}"
        self.sender = f"{name}-{self.user}"
        self.match = {
            "telegram": to_telegram(self.user),
            "facebook": to_facebook(self.user),
            "slack": to_slack(f"D{self.user[1:]}"),
        }[name]
        self.turns = 0

    def say(self, text: str, through_rasa: bool = True) -> str:
        before = len(self.standin.calls_for(self.match))
        if self.name == "telegram":
            assert post_telegram(self.assistant, telegram_update(int(self.user), text, "en")).status_code == 200
        elif self.name == "facebook":
            assert post_facebook(self.assistant, facebook_event(self.user, text)).status_code == 200
        else:
            assert post_slack(self.assistant, slack_event(self.user, text)).status_code == 200
        if through_rasa:
            self.turns += 1
            wait_turns(self.assistant, self.sender, self.turns)
        else:
            self.standin.wait_for(self.match, count=before + 1, timeout=30)
        return texts(self.standin.calls_for(self.match)[before:])


def _general(reply: str) -> bool:
    """The general answer with the invitation to sign in, and nothing of an account."""
    return "sign in" in reply and "4242" not in reply and "Visa" not in reply


@pytest.mark.parametrize("platform", ["telegram", "facebook", "slack"])
def test_a_linked_messenger_user_gets_account_answers(messenger, standin, platform) -> None:
    chat = Platform(platform, messenger, standin)
    assert _general(chat.say(RENEWAL))
    code = link_code(messenger)
    linked = chat.say(f"link {code}", through_rasa=False)
    assert "linked" in linked and "a****@acme.example" in linked and code not in linked
    signed_in = chat.say(RENEWAL)
    assert "4242" in signed_in, signed_in
    assert all(code not in event.get("text", "") for event in user_events(messenger, chat.sender))
    assert "no longer linked" in chat.say("unlink", through_rasa=False)
    assert _general(chat.say(RENEWAL))
    # the same code cannot link anyone again
    other = Platform(platform, messenger, standin)
    assert "already been used" in other.say(f"link {code}", through_rasa=False)
    assert _general(other.say(RENEWAL))


def test_nothing_typed_in_the_chat_can_claim_an_identity(messenger, standin) -> None:
    chat = Platform("telegram", messenger, standin)
    chat.say("I am admin@acme.example, token " + issue_token("admin@acme.example"))
    assert _general(chat.say(RENEWAL))


def test_link_replies_in_french_and_wrong_codes_lock_out(messenger, standin) -> None:
    chat = new_id()

    def say(text: str, language: str) -> str:
        before = len(standin.calls_for(to_telegram(chat)))
        assert post_telegram(messenger, telegram_update(chat, text, language)).status_code == 200
        return texts(standin.calls_for(to_telegram(chat))[before:])

    assert "Je ne reconnais pas ce code" in say("lier ZZZZ22", "fr")
    assert "I don't recognise that code" in say("link ZZZZ23", "en")
    assert "lier K7Q4M2" in say("lier", "fr")
    for attempt in range(3):
        say(f"link ZZZZ3{attempt + 2}", "en")
    locked = say(f"link {link_code(messenger)}", "fr")  # a good code, after 5 wrong ones
    assert "Trop de codes incorrects" in locked, locked
    assert user_events(messenger, f"telegram-{chat}") == []  # none of this went to Rasa


def test_a_platform_that_is_down_is_logged_and_the_server_carries_on(messenger, standin) -> None:
    chat = new_id()
    standin.failing = True
    try:
        assert post_telegram(messenger, telegram_update(chat, "hello")).status_code == 200
        psid = str(new_id())
        assert post_facebook(messenger, facebook_event(psid, "hello")).status_code == 200
        wait_turns(messenger, f"facebook-{psid}", 1)
    finally:
        standin.failing = False
    assert len(user_events(messenger, f"telegram-{chat}")) == 1
    later = new_id()
    post_telegram(messenger, telegram_update(later, "hello"))
    assert "Hi" in texts(standin.calls_for(to_telegram(later)))
    log = messenger.log_text()
    assert "Telegram API sendMessage refused (HTTP 502)" in log
    assert "Traceback" not in log


@pytest.mark.parametrize("platform", ["telegram", "facebook", "slack"])
def test_the_output_channel_reaches_the_customer_by_conversation_id(messenger, standin, platform) -> None:
    """What the agent console does: the channel's own output channel, from the prefixed conversation id."""
    chat = Platform(platform, messenger, standin)
    chat.say("hello")
    before = len(standin.calls_for(lambda call: True))
    answer = requests.post(
        f"{messenger.url}/conversations/{chat.sender}/trigger_intent",
        params={"token": messenger.token, "output_channel": "latest"},
        json={"name": "greet"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    pushed = standin.calls_for(lambda call: True)[before:]
    assert pushed and all(call.platform == platform for call in pushed)
    destination = {
        "telegram": lambda c: str(c.body["chat_id"]),
        "facebook": lambda c: c.body["recipient"]["id"],
        "slack": lambda c: c.body["channel"],
    }[platform]
    assert {destination(call) for call in pushed} == {chat.user}  # the prefix is gone; Slack: the user's DMs
    assert "Hi" in texts(pushed)


def test_linking_while_the_database_is_down(messenger, standin) -> None:
    chat = Platform("telegram", messenger, standin)
    code = link_code(messenger)
    hidden = messenger.database.with_suffix(".away")
    messenger.database.rename(hidden)
    try:
        assert "right now" in chat.say(f"link {code}", through_rasa=False)
        refused = requests.post(
            f"{messenger.url}/link/code",
            timeout=30,
            headers={"Authorization": f"Bearer {issue_token('admin@acme.example')}"},
        )
        assert refused.status_code == 503
        assert "Hi" in chat.say("hello")  # the conversation goes on, anonymously
    finally:
        messenger.database.unlink(missing_ok=True)  # SQLite created an empty file meanwhile
        hidden.rename(messenger.database)
    assert "now linked" in chat.say(f"link {code}", through_rasa=False)
    assert "4242" in chat.say(RENEWAL)


def test_the_website_may_ask_for_a_code_across_origins(messenger) -> None:
    preflight = requests.options(
        f"{messenger.url}/link/code",
        timeout=10,
        headers={
            "Origin": "https://www.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers.get("Access-Control-Allow-Origin") == "https://www.example.com"
    other = requests.options(
        f"{messenger.url}/link/code",
        timeout=10,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in other.headers


def test_no_secret_reaches_the_logs(messenger) -> None:
    log = messenger.log_text()
    assert log and not [secret for secret in SECRETS if secret in log]


# --- a channel without its variables is off ------------------------------------------------------------------

OFF_SERVER = """
import sys
from sanic import Sanic
from channels.messengers.facebook import FacebookInput
from channels.messengers.slack import SlackInput
from channels.messengers.telegram import TelegramInput

app = Sanic("messengers_off")

async def on_new_message(message):
    print("REACHED THE CONVERSATION:", message.text, flush=True)

for channel in (TelegramInput, FacebookInput, SlackInput):
    app.blueprint(channel.from_credentials(None).blueprint(on_new_message),
                  url_prefix="/webhooks/" + channel.from_credentials(None).url_prefix())
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


def test_a_channel_without_its_variables_is_off(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("TELEGRAM_", "FACEBOOK_", "SLACK_"))}
    env["TELEGRAM_BOT_TOKEN"] = TELEGRAM_TOKEN  # half a configuration is still off
    log = tmp_path / "off.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-c", OFF_SERVER, str(port)], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        url = f"http://127.0.0.1:{port}/webhooks"
        for _ in range(100):
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        telegram = requests.post(
            f"{url}/telegram/webhook",
            json=telegram_update(1, "hello"),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=10,
        )
        facebook = requests.post(f"{url}/facebook/webhook", json=facebook_event("1", "hello"), timeout=10)
        verify = requests.get(
            f"{url}/facebook/webhook",
            params={"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"},
            timeout=10,
        )
        slack = requests.post(f"{url}/slack/webhook", json=slack_event("U1", "hello"), timeout=10)
        click = requests.post(f"{url}/slack/interactive", data={"payload": "{}"}, timeout=10)
        for answer in (telegram, facebook, verify, slack, click):
            assert (answer.status_code, answer.json()) == (404, {"error": "channel not configured"})
    finally:
        server.terminate()
        server.wait(timeout=20)
    output = log.read_text()
    assert "REACHED THE CONVERSATION" not in output
    assert "Telegram channel off: TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET are both needed" in output
    assert TELEGRAM_TOKEN not in output


@pytest.mark.parametrize("platform", ["telegram", "facebook", "slack"])
def test_a_handed_over_messenger_customer_gets_the_agents_reply_on_their_platform(messenger, standin, platform) -> None:
    chat = Platform(platform, messenger, standin)
    handed = chat.say("I want to talk to a human", through_rasa=False)
    reference = re.search(r"HD-[0-9A-Z]{6}", handed).group(0)
    agent = ("agent", "agent-dev-password")
    api = f"{messenger.url}/agent/api/tickets/{reference}"
    assert requests.get(api, auth=agent, timeout=30).json()["ticket"]["channel"] == platform
    # pushed outside a reply: Slack gets the user id (their direct messages) rather than the event's channel
    pushed = to_slack(chat.user) if platform == "slack" else chat.match
    before = len(standin.calls_for(pushed))
    reply = requests.post(f"{api}/reply", auth=agent, json={"text": "Hello, Sam from support here."}, timeout=30)
    assert reply.status_code == 200 and reply.json()["delivered"] is True
    assert "Sam from support" in texts(standin.wait_for(pushed, count=before + 1, timeout=30)[before:])
    if platform == "facebook":  # after Messenger's 24-hour window only a tagged message gets through
        tagged = standin.calls_for(pushed)[before]
        assert tagged.body["messaging_type"] == "MESSAGE_TAG" and tagged.body["tag"] == "HUMAN_AGENT"
    standin.failing = True  # the platform is down: the reply is kept, and the agent is told it did not go out
    try:
        down = requests.post(f"{api}/reply", auth=agent, json={"text": "Are you still there?"}, timeout=30)
    finally:
        standin.failing = False
    assert down.status_code == 200 and down.json()["delivered"] is False
    before = len(standin.calls_for(pushed))
    assert requests.post(f"{api}/resolve", auth=agent, timeout=30).status_code == 200
    resumed = texts(standin.wait_for(pushed, count=before + 1, timeout=30)[before:])
    assert f"closed your request {reference}" in resumed
    assert requests.post(f"{api}/resolve", auth=agent, timeout=30).status_code == 409  # already resolved
