"""The request splitter, trained on the project's real training data: small talk set aside, requests kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.importers.rasa import RasaFileImporter
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from components.request_splitter import SMALL_TALK_PROPERTY, RequestSplitter

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
        ("Bonjour, je voudrais résilier mon abonnement. Merci", "fr", "je voudrais résilier mon abonnement.", "Bonjour, Merci"),
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


def test_process_sets_the_request_as_text_and_keeps_the_small_talk(splitter: RequestSplitter) -> None:
    message = Message(data={TEXT: "salut ! pourquoi mon paiement a échoué ?", "language": {"code": "fr"}})
    splitter.process([message])
    assert message.get(TEXT) == "pourquoi mon paiement a échoué ?"
    assert message.get(SMALL_TALK_PROPERTY) == "salut !"
