"""The request splitter, trained on the project's real training data: small talk set aside, requests kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.request_splitter import PART_PROPERTY, SMALL_TALK_PROPERTY, RequestChooser, RequestSplitter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def splitter(tmp_path_factory: pytest.TempPathFactory) -> RequestSplitter:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    resource = Resource("request_splitter")
    data = RasaFileImporter(training_data_paths=[str(ROOT / "data" / "nlu")]).get_nlu_data()
    RequestSplitter(RequestSplitter.get_default_config(), storage, resource).train(data)
    return RequestSplitter.load(RequestSplitter.get_default_config(), storage, resource, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, language, wanted, aside",
    [
        ("merci ! et il me reste combien de jours ?", "fr", "et il me reste combien de jours ?", "merci !"),
        ("hi, why did my payment fail?", "en", "why did my payment fail?", "hi,"),
        (
            "Bonjour, je voudrais résilier mon abonnement. Merci",
            "fr",
            "je voudrais résilier mon abonnement.",
            "Bonjour, Merci",
        ),
        ("thanks! and can I get a copy of the invoice", "en", "and can I get a copy of the invoice", "thanks!"),
    ],
)
def test_small_talk_is_set_aside(splitter: RequestSplitter, text: str, language: str, wanted: str, aside: str) -> None:
    found = splitter.request_of(text, language)
    assert found == {"request": wanted, "small_talk": aside}


@pytest.mark.parametrize(
    "text",
    [
        "merci beaucoup, bonne journée !",  # only small talk
        "hello",
        "why did my renewal fail and how do I fix it?",  # only a request
        "je veux annuler mais garder mes données",
        "/affirm",
        "",
    ],
)
def test_message_without_both_is_left_alone(splitter: RequestSplitter, text: str) -> None:
    assert splitter.request_of(text, "fr") is None
    assert splitter.request_of(text, "en") is None


def test_the_request_without_its_small_talk_is_classified_apart(splitter: RequestSplitter) -> None:
    message = Message(data={TEXT: "salut ! pourquoi mon paiement a échoué ?", "language": {"code": "fr"}})
    processed = splitter.process([message])
    assert [m.get(TEXT) for m in processed] == [
        "salut ! pourquoi mon paiement a échoué ?",
        "pourquoi mon paiement a échoué ?",
    ]
    assert [bool(m.get(PART_PROPERTY)) for m in processed] == [False, True]
    assert message.get(SMALL_TALK_PROPERTY) == "salut !"


def test_a_request_of_several_sentences_is_classified_sentence_by_sentence(splitter: RequestSplitter) -> None:
    text = "sorry, my colleague is taking over today. how many days do we have left before losing access?"
    message = Message(data={TEXT: text, "language": {"code": "en"}})
    processed = splitter.process([message])
    assert [m.get(TEXT) for m in processed] == [
        text,
        "sorry, my colleague is taking over today.",
        "how many days do we have left before losing access?",
    ]
    assert [bool(m.get(PART_PROPERTY)) for m in processed] == [False, True, True]
    assert splitter.sentences_of("how many days do we have left?", "en") == []  # one sentence: nothing to add


def _intent(name: str, confidence: float) -> dict:
    return {"name": name, "confidence": confidence}


def test_the_clearest_sentence_gives_its_intent_to_the_whole_message() -> None:
    chooser = RequestChooser(RequestChooser.get_default_config())
    whole = Message(data={TEXT: "a. b", INTENT: _intent("out_of_scope", 0.6)})
    first = Message(data={TEXT: "a", PART_PROPERTY: True, INTENT: _intent("out_of_scope", 0.9)})
    second = Message(data={TEXT: "b", PART_PROPERTY: True, INTENT: _intent("grace_period", 0.7)})
    second.set(INTENT_RANKING_KEY, [_intent("grace_period", 0.7)])
    assert chooser.process([whole, first, second]) == [whole]
    assert whole.get(INTENT) == _intent("grace_period", 0.7)
    assert whole.get(INTENT_RANKING_KEY) == [_intent("grace_period", 0.7)]


@pytest.mark.parametrize(
    "whole, sentence, replaced",
    [
        (_intent("nlu_fallback", 0.35), _intent("renewal_failed", 0.6), True),
        (_intent("thank", 0.9), _intent("grace_period", 0.55), True),
        (_intent("billing_dispute", 0.5), _intent("renewal_failed", 0.7), True),  # a weaker request reading
        (_intent("billing_dispute", 0.85), _intent("renewal_failed", 0.95), False),  # a confident one stands
        (_intent("affirm", 0.5), _intent("subscription_status", 0.9), False),  # may answer a pending question
        (_intent("nlu_fallback", 0.35), _intent("renewal_failed", 0.4), False),  # the sentence is unsure too
        (_intent("nlu_fallback", 0.35), _intent("goodbye", 0.9), False),  # small talk is not a request
    ],
)
def test_when_a_sentence_replaces_the_whole_reading(whole: dict, sentence: dict, replaced: bool) -> None:
    assert RequestChooser(RequestChooser.get_default_config()).replaces(whole, sentence) is replaced
