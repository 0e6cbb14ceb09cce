"""The running servers against an attacker: oversized and malformed input, other conversations, forged
action calls, floods, tokens in the conversation store, loopback binding."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from support.identity import issue_token
from tests.helpers.conversation import language, texts
from tests.helpers.socketio_client import ChatClient

REST = "/webhooks/rest/webhook"


def _post(assistant, body, **kwargs) -> requests.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    headers = {"Content-Type": "application/json"}
    return requests.post(f"{assistant.url}{REST}", data=data, headers=headers, timeout=60, **kwargs)


def _turn_seconds(assistant, sender: str, text: str = "hi") -> float:
    started = time.monotonic()
    assert assistant.say(text, sender)
    return time.monotonic() - started


def test_a_two_megabyte_message_delays_no_other_conversation(assistant) -> None:
    baseline = statistics.median(_turn_seconds(assistant, uuid.uuid4().hex) for _ in range(5))
    huge = json.dumps({"sender": uuid.uuid4().hex, "message": "hello " * 350_000})  # 2.1 MB
    with ThreadPoolExecutor(4) as pool:
        attacks = [pool.submit(_post, assistant, huge) for _ in range(2)]
        time.sleep(0.05)
        others = [pool.submit(_turn_seconds, assistant, uuid.uuid4().hex) for _ in range(4)]
        refused = [attack.result() for attack in attacks]
        delays = [other.result() for other in others]
    assert all(answer.status_code == 413 for answer in refused)
    # the stall this guards against lasted 24-27 s; a loaded machine adds a few seconds, never that
    assert max(delays) < baseline + 5, (baseline, delays)


def test_a_message_over_the_limit_is_refused_in_the_conversations_language_and_not_stored(assistant) -> None:
    sender = uuid.uuid4().hex
    assert language(assistant.say("bonjour, je voudrais des informations sur mon abonnement", sender)) == "fr"
    before = assistant.tracker(assistant.rest(sender))["events"]
    answer = texts(assistant.say("a" * 4001, sender))
    assert "4 000 caractères" in answer.replace("\u202f", " ").replace("\xa0", " ")
    after = assistant.tracker(assistant.rest(sender))["events"]
    assert [e for e in after if e["event"] == "user"] == [e for e in before if e["event"] == "user"]


@pytest.mark.parametrize(
    "body, error",
    [
        (b"", "body_must_be_an_object"),
        (b"not json", "invalid_json"),
        (b"[1, 2]", "body_must_be_an_object"),
        (b"null", "body_must_be_an_object"),
        ({"sender": "s", "message": 42}, "message_must_be_a_string"),
        ({"sender": "s", "message": ["x"]}, "message_must_be_a_string"),
        ({"sender": "s", "message": "hi", "metadata": "token"}, "metadata_must_be_an_object"),
        ({"sender": "s", "message": "hi", "metadata": True}, "metadata_must_be_an_object"),
        ({"sender": "../../etc", "message": "hi"}, "invalid_sender"),
        ({"sender": "x" * 65, "message": "hi"}, "invalid_sender"),
        ({"message": "hi"}, "invalid_sender"),
    ],
)
def test_a_malformed_rest_body_gets_a_400_with_a_json_error(assistant, body, error: str) -> None:
    answer = _post(assistant, body)
    assert (answer.status_code, answer.json()) == (400, {"error": error})


def test_deeply_nested_metadata_is_harmless(assistant) -> None:
    nested = '{"a": ' * 1000 + "{}" + "}" * 1000  # deeper than Python's json can write back
    answer = _post(assistant, '{"sender": "deep", "message": "hi", "metadata": ' + nested + "}")
    assert answer.status_code in (200, 400) and answer.status_code < 500


def test_rest_can_never_write_into_the_widgets_or_a_messengers_conversation(assistant) -> None:
    with ChatClient(assistant, {"token": issue_token("admin@acme.example"), "locale": "fr-FR"}) as victim:
        victim.send("pourquoi mon renouvellement a échoué ?")
        conversation = victim.session["session_id"]
    before = assistant.tracker(conversation)["events"]
    for sender in (conversation, "telegram-424242"):
        replies = assistant.say("/human_handoff", sender)
        assert replies and all(reply["recipient_id"] == assistant.rest(sender) for reply in replies)
    assert assistant.tracker(conversation)["events"] == before  # not a line, not a pause
    assert assistant.tracker("telegram-424242")["events"] in ([], None) or not [
        e for e in assistant.tracker("telegram-424242")["events"] if e["event"] == "user"
    ]


def test_a_flood_from_one_conversation_is_slowed_politely_in_its_language(assistant) -> None:
    sender = uuid.uuid4().hex
    answers = [texts(assistant.say("merci beaucoup pour votre aide", sender)) for _ in range(25)]
    refused = [answer for answer in answers if "trop vite" in answer]
    assert 3 <= len(refused) <= 6 and all(language([{"text": answer}]) == "fr" for answer in refused)
    users = [e for e in assistant.tracker(assistant.rest(sender))["events"] if e["event"] == "user"]
    assert len(users) == 25 - len(refused)  # a refused message is not stored


def test_the_customers_token_never_reaches_the_conversation_store(assistant) -> None:
    sender, token = uuid.uuid4().hex, issue_token("admin@acme.example")
    assert "4242" in texts(assistant.say("why did my renewal fail?", sender, {"token": token, "locale": "en-GB"}))
    stored = json.dumps(assistant.tracker(assistant.rest(sender)))
    assert token not in stored and token.split(".")[2] not in stored and '"token"' not in stored
    assert '"identity"' in stored and "admin@acme.example" in stored  # the verified subject, kept instead


def test_invalid_characters_are_cleaned_and_a_handoff_still_works(assistant) -> None:
    sender = uuid.uuid4().hex
    replies = []
    for text in ("/greet \ud800", "bonjour \udfff\u202e \x00 je veux parler à un conseiller"):
        answer = _post(assistant, json.dumps({"sender": sender, "message": text}))  # \ud800 escaped in the JSON
        assert answer.status_code == 200 and answer.json(), answer.text
        replies.append(texts(answer.json()))
    assert "HD-" in replies[1]  # the ticket took the cleaned transcript


def test_the_action_server_answers_only_the_rasa_server(assistant) -> None:
    forged = {
        "next_action": "action_handoff",
        "sender_id": "telegram-424242",
        "domain": {},
        "tracker": {"sender_id": "telegram-424242", "events": [], "slots": {}, "latest_message": {}},
    }
    for headers in ({}, {"Authorization": "Bearer guess"}, {"Authorization": "guess"}):
        answer = requests.post(f"{assistant.actions_url}/webhook", json=forged, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()) == (401, {"error": "unauthorized"})
    assert requests.get(f"{assistant.actions_url}/health", timeout=10).status_code == 200


def test_both_servers_listen_on_the_loopback_interface_only(assistant) -> None:
    ports = {int(assistant.url.rsplit(":", 1)[1]), int(assistant.actions_url.rsplit(":", 1)[1])}
    listening = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table, encoding="ascii").read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) in ports:  # LISTEN
                listening.setdefault(int(port, 16), set()).add(address)
    assert set(listening) == ports
    assert all(addresses <= {"0100007F"} for addresses in listening.values()), listening  # 127.0.0.1


@pytest.mark.parametrize("path", ["/chat/", "/agent/"])
def test_pages_carry_a_strict_content_security_policy(assistant, path: str) -> None:
    answer = requests.get(f"{assistant.url}{path}", timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and answer.headers["Referrer-Policy"] == "no-referrer"
    assert "<script>" not in answer.text and "<style>" not in answer.text and " style=" not in answer.text


def test_no_origin_is_allowed_across_sites_unless_configured(assistant) -> None:
    """ALLOWED_ORIGINS is unset here: no Access-Control-Allow-Origin for anyone, credentials or not."""
    for path in ("/webhooks/rest/webhook", "/agent/api/me", "/link/code"):
        preflight = requests.options(
            f"{assistant.url}{path}",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            timeout=10,
        )
        assert "Access-Control-Allow-Origin" not in preflight.headers, (path, dict(preflight.headers))
    answer = requests.get(f"{assistant.url}/agent/api/me", headers={"Origin": "https://evil.example"}, timeout=10)
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
