"""The conversation's language is chosen inside the Rasa server, by Rasa's slot extraction, with the old rules."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

import pytest
from rasa.core.actions.action import ActionExtractSlots
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import channels  # noqa: F401  (installs it, as the Rasa server does when it loads the channels)
from channels import language_slot
from tests.helpers.server import ROOT

DOMAIN = Domain.load(str(ROOT / "domain"))
# what the detector measures in "how do I cancel my plan"
SENTENCE = {"words": 5, "letters": 18, "others": 0, "distinct_letters": 13}
ENGLISH = {"code": "en", "confidence": 0.99, **SENTENCE}


def _extract(language: Optional[str], detected: Dict[str, Any], metadata: Optional[dict] = None) -> list:
    """Rasa's slot extraction after one user message, in a conversation held in `language` so far."""
    events = [SlotSet("language", language)] if language else []
    parse = {"intent": {"name": "greet", "confidence": 1.0}, "entities": [], "language": detected}
    events.append(UserUttered("x", parse["intent"], [], parse, metadata=metadata))
    tracker = DialogueStateTracker.from_events("someone", events, slots=DOMAIN.slots)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    run = ActionExtractSlots(None).run(CollectingOutputChannel(), nlg, tracker, DOMAIN)
    with ThreadPoolExecutor(1) as thread:  # its own event loop, whatever an earlier test left in this thread
        events = thread.submit(asyncio.run, run).result()
    return [e.value for e in events if isinstance(e, SlotSet) and e.key == "language"]


def test_a_clear_sentence_in_the_other_language_switches() -> None:
    assert _extract("fr", ENGLISH) == ["en"]


@pytest.mark.parametrize(
    "detected",
    [
        # the same confidence on what is no sentence (`1' AND sleep(5)#`) keeps the language
        {"code": "en", "confidence": 0.99, "words": 2, "letters": 8, "others": 6, "distinct_letters": 7},
        {"code": None, "confidence": 0.0},  # "ok", an emoji
        {},  # a button payload ("/affirm") skips the NLU pipeline
    ],
)
def test_a_short_or_neutral_message_keeps_the_language(detected: dict) -> None:
    assert _extract("fr", detected) == []


def test_the_channel_locale_sets_the_first_turn() -> None:
    assert _extract(None, {"code": None, "locale": "fr"}) == ["fr"]
    assert _extract(None, {}, metadata={"locale": "fr-CA"}) == ["fr"]  # a payload: the message's metadata


def test_a_failing_choice_keeps_the_language_and_the_other_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> str:
        raise UnicodeError("bug")

    monkeypatch.setattr(language_slot, "choose_language", broken)
    assert _extract("fr", ENGLISH) == []


def test_installing_twice_wraps_once() -> None:
    run = ActionExtractSlots.run
    language_slot.install()
    assert ActionExtractSlots.run is run and getattr(run, "sets_language", False)
