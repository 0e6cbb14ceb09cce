"""The running assistant over real HTTP: replies in the right language, bad input, protected API."""
from __future__ import annotations

import re
import uuid

import pytest
import requests

from components.language_detector import LanguageDetector
from support.settings import product

DETECTOR = LanguageDetector(LanguageDetector.get_default_config())


def _text(replies: list) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def _language(replies: list) -> str | None:
    return DETECTOR.detect(_text(replies))["code"]


def test_french_question_gets_a_french_answer_with_product_facts(assistant) -> None:
    replies = assistant.say("pourquoi mon paiement de renouvellement a échoué ?")
    assert _language(replies) == "fr"
    text = _text(replies)
    assert f"{product().grace_days} jours" in text
    assert "{" not in text, "a placeholder was not filled"
    titles = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert "Relancer le paiement" in titles


def test_english_question_gets_an_english_answer(assistant) -> None:
    replies = assistant.say("how do I cancel my subscription?")
    assert _language(replies) == "en"
    assert product().product_name in _text(replies)
    assert [b["payload"] for r in replies for b in r.get("buttons", [])][0] == "/export_data"


def test_language_switch_and_neutral_messages_keep_the_language(assistant) -> None:
    sender = uuid.uuid4().hex
    assert _language(assistant.say("why did my card payment fail?", sender)) == "en"
    assert _language(assistant.say("👍", sender)) == "en"
    assert _language(assistant.say("d'accord, et comment je change ma carte bancaire ?", sender)) == "fr"
    assert _language(assistant.say("ok", sender)) == "fr"
    assert _language(assistant.say("slt", sender)) == "fr"


def test_channel_locale_sets_the_first_turn_language(assistant) -> None:
    sender = uuid.uuid4().hex
    assert _language(assistant.say("/greet", sender, metadata={"locale": "fr-CA"})) == "fr"
    sender = uuid.uuid4().hex
    assert _language(assistant.say("/greet", sender, metadata={"locale": "en-GB"})) == "en"


def test_two_misunderstandings_in_a_row_offer_a_person(assistant) -> None:
    sender = uuid.uuid4().hex
    first = assistant.say("quelle est la capitale de l'Australie ?", sender)
    assert not any(r.get("buttons") for r in first)
    second = assistant.say("donne moi une recette de crêpes", sender)
    assert [b["payload"] for r in second for b in r.get("buttons", [])] == ["/affirm", "/deny"]
    assert _language(second) == "fr"
    accepted = _text(assistant.say("/affirm", sender))
    assert re.search(r"référence : HD-[0-9A-Z]{6}", accepted) and "équipe support" in accepted


BAD_INPUTS = {
    "empty": "",
    "whitespace": "   \n\t  ",
    "huge": "je veux annuler mon abonnement " * 700,  # about 20,000 characters
    "emoji": "😡😡😡🔥",
    "control": "annuler\x00\x07\x1b[31m abonnement\x08",
    "html": "<script>alert('x')</script><b>cancel</b> my plan",
    "sql": "'; DROP TABLE subscriptions; -- why did my payment fail",
    "mixed": "bonjour, I want to cancel mon abonnement please",
    "template": "{product_name} {0} %s ${HOME} {{7*7}}",
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_gets_a_sensible_reply(assistant, kind: str) -> None:
    sender = uuid.uuid4().hex
    replies = assistant.say(BAD_INPUTS[kind], sender)
    text = _text(replies)
    assert replies and text.strip(), f"no reply to {kind} input"
    assert "Traceback" not in text and "Exception" not in text
    assert "<script>" not in text
    # the conversation still works afterwards
    assert _text(assistant.say("how do I cancel my subscription?", sender))


def test_no_exception_in_either_server_log(assistant) -> None:
    for text in BAD_INPUTS.values():
        assistant.say(text)
    log = assistant.log_text()
    assert not re.search(r"Traceback|Exception|ERROR", log), log[-3000:]


def test_http_api_requires_the_token(assistant) -> None:
    sender = uuid.uuid4().hex
    assistant.say("hello", sender)
    assert requests.get(f"{assistant.url}/conversations/{sender}/tracker", timeout=10).status_code == 401
    assert requests.get(f"{assistant.url}/conversations/{sender}/tracker",
                        params={"token": "wrong"}, timeout=10).status_code == 401
    assert assistant.tracker(sender)["sender_id"] == sender
