"""Hostile input on every channel, generated: more than 10,000 inputs, seeded and bounded.

Both servers (scripts/run.sh, ports 15011/15061) run on their own PostgreSQL database with the Telegram,
Messenger and Slack channels on, their APIs being the loopback stand-in. tests/helpers/hostile.py builds
the plan from the seed (HOSTILE_SEED to change it) and sends it from 4 threads: conversations over REST,
the widget's socket.io, Telegram, Messenger and Slack (a real question in French or English, then empty,
whitespace, huge, emoji, bidi, zalgo, lone surrogates, control characters, markup, SQL, format strings,
slash commands and payloads, franglais and more real questions), and cheap edge cases (malformed and
oversized REST bodies, bad widget tokens and events, unsigned, forged and malformed webhooks).

The run happens once (the `report` fixture); each test below checks one promise over every input and
names the first failures with their seed index (`python -m bench.hostile_bench --seed S --show INDEX`
prints one). The servers' whole logs are checked when they stop (`running_assistant`).

The `test_defect_*` tests reproduce defects found this way; they fail until the application is fixed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator, List

import pytest
import requests

from tests.helpers.conversation import language, texts
from tests.helpers.hostile import (
    CHANNELS,
    DEFAULT_SEED,
    FAMILIES,
    KNOWN_DEFECTS,
    Conversation,
    Failure,
    Input,
    Mix,
    Plan,
    Report,
    Runner,
    State,
    build_plan,
    facebook_shape,
    slack_shape,
    telegram_shape,
)
from tests.helpers.messengers import (
    FACEBOOK_TOKEN,
    SECRETS,
    SLACK_TOKEN,
    TELEGRAM_TOKEN,
    facebook_event,
    messenger_env,
    new_id,
    post_facebook,
    post_facebook_raw,
    post_slack,
    post_slack_raw,
    post_telegram,
    post_telegram_raw,
    slack_event,
    telegram_update,
    to_facebook,
    to_slack,
    to_telegram,
    wait_turns,
)
from tests.helpers.platform_standin import PlatformStandIn
from tests.helpers.server import PG_URL, ROOT, Assistant, prepare_database, running_assistant

RASA_PORT, ACTIONS_PORT = 15011, 15061
SEED = int(os.environ.get("HOSTILE_SEED", DEFAULT_SEED))
THREADS = 4
BUDGET_SECONDS = float(os.environ.get("HOSTILE_BUDGET", 1200))  # the run (about 800 s here); the start comes on top
MIX = Mix()


def hostile_database() -> str:
    """A PostgreSQL database of its own (PostgreSQL refuses NUL characters: the hostile case for text)."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = 'assistant_hostile_test'")).first():
            connection.execute(text("CREATE DATABASE assistant_hostile_test"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/assistant_hostile_test"


@pytest.fixture(scope="module")
def standin() -> Iterator[PlatformStandIn]:
    with PlatformStandIn(TELEGRAM_TOKEN, FACEBOOK_TOKEN, SLACK_TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def hostile(standin: PlatformStandIn) -> Iterator[Assistant]:
    url = hostile_database()
    prepare_database(url)
    env = {**messenger_env(standin), "HELPDESK_MODE": "off"}
    with running_assistant(RASA_PORT, ACTIONS_PORT, url, extra_env=env, secrets=SECRETS) as server:
        yield server


def _show(request: pytest.FixtureRequest, text: str) -> None:
    """On the terminal even when pytest captures the output (the figures matter when the run passes too)."""
    print(text)
    reporter = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            for line in text.splitlines():
                reporter.write_line(line)


@pytest.fixture(scope="module")
def report(hostile: Assistant, standin: PlatformStandIn, request: pytest.FixtureRequest) -> Report:
    plan = build_plan(SEED, MIX)
    _show(
        request,
        f"hostile inputs: seed {SEED}, {plan.size:,} inputs planned (plan {plan.fingerprint}), {THREADS} threads",
    )
    result = Runner(hostile, standin, plan, THREADS, BUDGET_SECONDS).run()
    _show(request, result.summary())
    return result


def _first(failures: List[Failure], limit: int = 12) -> str:
    lines = [f"{len(failures)} failures (seed {SEED}); the first ones:"] + [f"  {f}" for f in failures[:limit]]
    return "\n".join(lines)


# --- the run --------------------------------------------------------------------------------------------


def test_the_run_is_big_seeded_and_within_its_budget(report: Report) -> None:
    assert report.total >= 10_000 and report.through_nlu >= 3_000, report.figures()
    assert report.skipped == 0 and report.elapsed <= BUDGET_SECONDS, report.figures()
    messages = [f for f in FAMILIES if f != "huge_under"]  # huge_under is rare in a small conversation
    missing = [(c, f) for c in CHANNELS for f in messages if not report.counts[(c, f)]]
    assert not missing, f"families never sent: {missing}"
    assert build_plan(SEED, MIX).fingerprint == report.plan.fingerprint, "the same seed must give the same inputs"
    assert not report.unexpected("driver"), _first(report.unexpected("driver"))


def test_no_5xx_and_malformed_requests_get_json_errors(report: Report) -> None:
    failures = report.unexpected("5xx", "status", "error_body", "replay")
    assert not failures, _first(failures)


def test_every_message_that_deserves_an_answer_gets_one_and_only_its_own(report: Report) -> None:
    failures = report.unexpected("silence", "stray", "spoke_while_paused")
    assert not failures, _first(failures)


def test_no_reply_holds_an_error_a_placeholder_or_another_customers_data(report: Report) -> None:
    failures = report.unexpected("content", "leak")
    assert not failures, _first(failures)


def test_every_reply_is_in_the_conversations_language(report: Report) -> None:
    failures = report.unexpected("language")
    assert not failures, _first(failures)


def test_refused_messages_are_answered_politely_and_nothing_refused_is_stored(report: Report) -> None:
    failures = report.unexpected("refusal", "stored")
    assert not failures, _first(failures)


def test_nothing_is_written_to_another_conversation(report: Report) -> None:
    failures = report.unexpected("canary", "probe")
    assert not failures, _first(failures)


def test_every_failure_is_one_of_the_checks_above(report: Report) -> None:
    checked = {"driver", "5xx", "status", "error_body", "replay", "silence", "stray", "spoke_while_paused"}
    checked |= {"content", "leak", "language", "refusal", "stored", "canary", "probe"}
    assert not [f for f in report.unexpected() if f.check not in checked], _first(report.unexpected())


def test_the_checks_catch_what_they_are_meant_to_catch() -> None:
    """The checks above are not vacuous: fabricated bad answers fail them (no server needed)."""
    runner = Runner(None, None, Plan(SEED, MIX, [], [], False))  # type: ignore[arg-type]
    item = Input(0, "rest", "question", "bonjour, comment résilier mon abonnement ?", "fr")
    state = State(Conversation(0, "rest", "fr", None, None, [item]))
    runner.turn(item, state, [])
    runner.turn(item, state, ["Voici comment résilier votre abonnement {product_name} en cinq étapes simples."])
    runner.turn(item, state, ["Désolé, une Exception est survenue pendant le traitement de votre demande (Traceback)."])
    runner.turn(item, state, ["Here is how to cancel your subscription: sign in as the administrator first."])
    runner.turn(item, state, ["Votre carte Visa 4242 a expiré : changez-la dans Abonnement > Facturation."])
    runner.refusal(item, state, ["Bonjour ! Je suis l'assistant du support, que puis-je faire pour vous ?"])
    runner.turn(item, state, ["C'est noté, votre référence : HD-7K3Q9M. Quelqu'un vous répond ici même."])
    runner.turn(item, state, ["Bonjour ! Je suis l'assistant du support, que puis-je faire pour vous ?"])
    found = sorted(f.check for f in runner.report.failures)
    assert found == ["content", "content", "language", "leak", "refusal", "silence", "spoke_while_paused"], found


# --- defects found by this suite: each test fails until the application is fixed ------------------------


def _rest(assistant: Assistant, sender: str, text: str) -> List[dict]:
    return assistant.say(text, sender)


def test_defect_typed_rasa_control_intents_get_no_answer_and_forget_the_language(hostile: Assistant) -> None:
    """KNOWN_DEFECTS["rasa_control_intents"]: Rasa's built-in /restart, /back and /session_start can be typed on
    every channel. They get no answer at all, /restart and /back make the conversation forget its language (the
    next neutral message is answered in product.yml's default, English), and /restart makes the bot speak while
    a person owns the conversation."""
    problems = []
    for payload in ("/restart", "/back", "/session_start"):
        sender = uuid.uuid4().hex
        assert language(_rest(hostile, sender, "bonjour, pourquoi mon paiement a échoué ?")) == "fr"
        if not _rest(hostile, sender, payload):
            problems.append(f"{payload}: no answer")
        after = _rest(hostile, sender, "👍")
        if language(after) != "fr":
            problems.append(f"{payload} then '👍' in a French conversation: {texts(after)!r}")
    sender = uuid.uuid4().hex
    _rest(hostile, sender, "bonjour, je voudrais parler à un conseiller")
    assert _rest(hostile, sender, "encore une question") == []  # a person owns the conversation: silence
    spoken = _rest(hostile, sender, "/restart")
    if spoken:
        problems.append(f"/restart while a person owns the conversation: the bot said {texts(spoken)!r}")
    assert not problems, "\n".join(problems)


def test_defect_messenger_refusals_ignore_the_conversations_language(
    report: Report, hostile: Assistant, standin: PlatformStandIn
) -> None:
    """KNOWN_DEFECTS["messenger_reply_language"]: REST and the widget answer a message over MAX_MESSAGE_CHARS in
    the conversation's language (channels/gate.py conversation_language); Telegram without a language_code,
    Messenger and Slack answer it (and link commands) in channels/linking.py command_language: the platform
    locale, else the message's words, else product.yml's default. A French conversation on Messenger that
    sends 5,000 emoji is told in English that its message is too long."""
    problems = [str(f) for f in report.known("messenger_reply_language")[:5]]
    flood = "😡" * 5000
    psid = str(new_id())
    post_facebook(hostile, facebook_event(psid, "bonjour, pourquoi mon paiement a échoué ?"))
    wait_turns(hostile, f"facebook-{psid}", 1)
    before = len(standin.calls_for(to_facebook(psid)))
    post_facebook(hostile, facebook_event(psid, flood))
    refusal = standin.wait_for(to_facebook(psid), before + 1, timeout=30)[before:]
    if language([{"text": c.text} for c in refusal]) != "fr":
        problems.append(f"Messenger, French conversation, 5,000 emoji: {[c.text for c in refusal]!r}")
    user = f"U{new_id()}"
    post_slack(hostile, slack_event(user, "bonjour, comment résilier mon abonnement ?"))
    wait_turns(hostile, f"slack-{user}", 1)
    match = to_slack(f"D{user[1:]}")
    before = len(standin.calls_for(match))
    post_slack(hostile, slack_event(user, flood))
    refusal = standin.wait_for(match, before + 1, timeout=30)[before:]
    if language([{"text": c.text} for c in refusal]) != "fr":
        problems.append(f"Slack, French conversation, 5,000 emoji: {[c.text for c in refusal]!r}")
    chat = new_id()
    post_telegram(hostile, telegram_update(chat, "bonjour, pourquoi mon paiement a échoué ?", language=None))
    before = len(standin.calls_for(to_telegram(chat)))
    post_telegram(hostile, telegram_update(chat, flood, language=None))
    refusal = standin.calls_for(to_telegram(chat))[before:]
    if language([{"text": c.text} for c in refusal]) != "fr":
        problems.append(f"Telegram without language_code, French conversation: {[c.text for c in refusal]!r}")
    assert not problems, "\n".join(problems)


MISSHAPEN_SERVER = """
import sys
from sanic import Sanic
from channels.messengers.facebook import FacebookInput
from channels.messengers.slack import SlackInput
from channels.messengers.telegram import TelegramInput

app = Sanic("misshapen_webhooks")

async def on_new_message(message):
    print("REACHED THE CONVERSATION:", message.text, flush=True)

for channel in (TelegramInput, FacebookInput, SlackInput):
    configured = channel.from_credentials(None)
    app.blueprint(configured.blueprint(on_new_message), url_prefix="/webhooks/" + configured.url_prefix())
app.run(host="127.0.0.1", port=int(sys.argv[1]), access_log=False)
"""


def test_defect_signed_webhooks_with_misshapen_fields_get_a_500(standin: PlatformStandIn, tmp_path: Path) -> None:
    """KNOWN_DEFECTS["signed_misshapen_webhook"]: a correctly signed webhook whose nested fields have another JSON
    type than the platform's (an object where a list is expected, a string where an object is) raises in the
    channel (AttributeError on .get) and gets a 500 with a traceback in the log, where a malformed body should
    get a 4xx JSON error or be ignored. Reproduced on the three webhook blueprints alone (a server of their own,
    so that the suite's servers keep clean logs)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, **messenger_env(standin)}
    log = tmp_path / "misshapen.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-c", MISSHAPEN_SERVER, str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    site = SimpleNamespace(url=f"http://127.0.0.1:{port}")
    try:
        for _ in range(300):
            try:
                requests.get(f"{site.url}/webhooks", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        answers = {}
        for shape in ("message_list", "message_string", "chat_string", "from_string", "click_message_string"):
            raw = json.dumps(telegram_shape(shape, new_id())).encode()
            answers[f"telegram {shape}"] = post_telegram_raw(site, raw).status_code
        for shape in ("entry_dict", "entry_string", "messaging_string", "sender_string", "quick_reply_string"):
            raw = json.dumps(facebook_shape(shape, str(new_id()))).encode()
            answers[f"messenger {shape}"] = post_facebook_raw(site, raw).status_code
        for shape in ("event_string", "event_list", "user_string", "channel_string"):
            path, raw = slack_shape(shape, f"U{new_id()}")
            answers[f"slack {path} {shape}"] = post_slack_raw(site, raw, path=path).status_code
    finally:
        server.terminate()
        server.wait(timeout=20)
    output = log.read_text()
    assert "REACHED THE CONVERSATION" not in output
    failing = {case: status for case, status in answers.items() if status >= 500}
    assert not failing, (
        f"signed, misshapen webhooks answered with a 5xx: {failing}\n{KNOWN_DEFECTS['signed_misshapen_webhook']}"
    )
