"""The running assistant over real HTTP: replies in the right language, bad input, protected API."""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from support.settings import product
from tests.helpers.conversation import (
    api,
    eventually,
    language,
    last_intent,
    reference_in,
    texts,
)


def test_french_question_gets_a_french_answer_with_product_facts(assistant) -> None:
    replies = assistant.say("pourquoi mon paiement de renouvellement a échoué ?")
    assert language(replies) == "fr"
    text = texts(replies)
    assert f"{product().grace_days} jours" in text
    assert "{" not in text, "a placeholder was not filled"
    titles = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert "Relancer le paiement" in titles


def test_english_question_gets_an_english_answer(assistant) -> None:
    replies = assistant.say("how do I cancel my subscription?")
    assert language(replies) == "en"
    assert product().product_name in texts(replies)
    assert [b["payload"] for r in replies for b in r.get("buttons", [])][0] == "/export_data"


def test_language_switch_and_neutral_messages_keep_the_language(assistant) -> None:
    sender = uuid.uuid4().hex
    assert language(assistant.say("why did my card payment fail?", sender)) == "en"
    assert language(assistant.say("👍", sender)) == "en"
    assert language(assistant.say("d'accord, et comment je change ma carte bancaire ?", sender)) == "fr"
    assert language(assistant.say("ok", sender)) == "fr"
    assert language(assistant.say("slt", sender)) == "fr"


def test_channel_locale_sets_the_first_turn_language(assistant) -> None:
    sender = uuid.uuid4().hex
    assert language(assistant.say("/greet", sender, metadata={"locale": "fr-CA"})) == "fr"
    sender = uuid.uuid4().hex
    assert language(assistant.say("/greet", sender, metadata={"locale": "en-GB"})) == "en"


def test_two_misunderstandings_in_a_row_offer_a_person(assistant) -> None:
    sender = uuid.uuid4().hex
    first = assistant.say("quelle est la capitale de l'Australie ?", sender)
    assert not any(r.get("buttons") for r in first)
    second = assistant.say("donne moi une recette de crêpes", sender)
    assert [b["payload"] for r in second for b in r.get("buttons", [])] == ["/affirm", "/deny"]
    assert language(second) == "fr"
    accepted = texts(assistant.say("/affirm", sender))
    assert re.search(r"référence\s: HD-[0-9A-Z]{6}", accepted) and "équipe support" in accepted


TOO_LONG = None  # the intent of a message the channel refused: none, it never reaches the NLU or the store
BAD_INPUTS = {  # kind: (text, the intent the NLU must give it, the reply's language)
    "empty": ("", "nlu_fallback", "en"),
    "whitespace": ("   \n\t  ", "nlu_fallback", "en"),
    "huge": ("je veux annuler mon abonnement " * 700, TOO_LONG, "fr"),  # about 20,000 characters
    "emoji": ("😡😡😡🔥", "nlu_fallback", "en"),
    "control": ("annuler\x00\x07\x1b[31m abonnement\x08", "cancel_subscription", "fr"),
    "html": ("<script>alert('x')</script><b>cancel</b> my plan", "cancel_subscription", "en"),
    "sql": ("'; DROP TABLE subscriptions; -- why did my payment fail", "renewal_failed", "en"),
    "mixed": ("bonjour, I want to cancel mon abonnement please", "cancel_subscription", "fr"),
    "template": ("{product_name} {0} %s ${HOME} {{7*7}}", "out_of_scope", "en"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_gets_the_right_answer_in_the_right_language(any_assistant, kind: str) -> None:
    text, intent, expected_language = BAD_INPUTS[kind]
    sender = uuid.uuid4().hex
    replies = any_assistant.say(text, sender)
    assert last_intent(any_assistant, sender) == intent
    assert replies and language(replies) == expected_language, replies
    assert ("trop long" in texts(replies)) is (intent is TOO_LONG)
    assert "{" not in texts(replies) and "Traceback" not in texts(replies)
    assert language(any_assistant.say("how do I cancel my subscription?", sender)) == "en"  # it still works


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
def test_bad_input_while_a_person_owns_the_conversation_reaches_the_ticket(any_assistant, kind: str) -> None:
    text = BAD_INPUTS[kind][0]
    sender = uuid.uuid4().hex
    reference = reference_in(texts(any_assistant.say("je voudrais parler à un conseiller", sender)))
    answer = any_assistant.say(text, sender)
    if BAD_INPUTS[kind][1] is TOO_LONG:  # refused by the channel, in the customer's language: nothing kept
        assert "trop long" in texts(answer)
        text = ""
    else:
        assert answer == []  # the bot stays silent while a person owns the conversation
    any_assistant.say("dernier message", sender)  # a sentinel: the broker writes messages in order
    eventually(lambda: "dernier message" in _customer_lines(any_assistant, reference))
    lines = _customer_lines(any_assistant, reference)
    if text.strip():
        expected = "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32 and ord(ch) != 127).strip()[:4000]
        assert expected in lines
    assert api(any_assistant, "POST", f"/tickets/{reference}/resolve").status_code == 200
    assert language(any_assistant.say("comment résilier mon abonnement ?", sender)) == "fr"  # the bot is back


def _customer_lines(assistant, reference: str) -> list:
    detail = api(assistant, "GET", f"/tickets/{reference}").json()["ticket"]
    return [line["text"] for line in detail["transcript"] if line["author"] == "customer"]


def test_no_exception_in_either_server_log(assistant) -> None:
    for text, _, _ in BAD_INPUTS.values():
        assistant.say(text)
    assert assistant.log_problems() == []


def test_http_api_requires_the_token(assistant) -> None:
    sender = uuid.uuid4().hex
    assistant.say("hello", sender)
    assert requests.get(f"{assistant.url}/conversations/{sender}/tracker", timeout=10).status_code == 401
    assert (
        requests.get(
            f"{assistant.url}/conversations/{sender}/tracker", params={"token": "wrong"}, timeout=10
        ).status_code
        == 401
    )
    assert assistant.tracker(assistant.rest(sender))["sender_id"] == assistant.rest(sender)
