"""Language detection in the NLU pipeline and the choice of the reply language."""

from __future__ import annotations

import pytest

from components.language_detector import LanguageDetector
from support.language import choose_language, locale_language

DETECTOR = LanguageDetector(LanguageDetector.get_default_config())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Pourquoi mon paiement a échoué ?", "fr"),
        ("jveux annuler mon abonnement stp", "fr"),
        ("chu pu capable de trouver la facturation", "fr"),
        ("why did my renewal fail", "en"),
        ("I want cancel my subscribe", "en"),
        ("ok", None),
        ("👍", None),
        ("slt", None),
        ("", None),
        ("/affirm", None),
        ("???", None),
    ],
)
def test_detects_language_or_abstains(text: str, expected: str | None) -> None:
    assert DETECTOR.detect(text)["code"] == expected


def test_huge_message_is_detected_quickly_from_its_start() -> None:
    assert DETECTOR.detect("bonjour je voudrais résilier " * 5000)["code"] == "fr"


@pytest.mark.parametrize(
    "metadata, expected",
    [
        ({"locale": "fr-CA"}, "fr"),
        ({"locale": "en_US"}, "en"),
        ({"locale": "de-DE"}, None),
        ({}, None),
        (None, None),
    ],
)
def test_locale_from_channel_metadata(metadata, expected) -> None:
    assert locale_language(metadata) == expected


# what the detector measures in a real sentence ("je voudrais résilier mon abonnement")
SENTENCE = {"words": 5, "letters": 31, "others": 0, "distinct_letters": 16}


@pytest.mark.parametrize(
    "current, detected, expected",
    [
        (None, {"code": "fr", "confidence": 0.7, **SENTENCE}, "fr"),  # first turn: best guess
        (None, {"code": None, "locale": "fr"}, "fr"),  # neutral first turn: channel locale
        (None, {"code": None}, "en"),  # nothing at all: the default
        (None, {"code": "en", "confidence": 0.7, "locale": "fr", **SENTENCE}, "fr"),  # weak signal loses to the locale
        (None, {"code": "en", "confidence": 0.99, "locale": "fr", **SENTENCE}, "en"),  # a clear sentence wins
        ("fr", {"code": None}, "fr"),  # "ok", "👍" keep the language
        ("fr", {"code": "en", "confidence": 0.8, **SENTENCE}, "fr"),  # franglais does not flip it
        ("fr", {"code": "en", "confidence": 0.97, **SENTENCE}, "en"),  # a real switch does
        ("en", {"code": "fr", "confidence": 0.95, "locale": "en", **SENTENCE}, "fr"),
        ("fr", {"code": "en", "confidence": 0.97}, "fr"),  # no measure of the text: not a sentence
    ],
)
def test_choose_language(current, detected, expected) -> None:
    assert choose_language(current, detected, "en") == expected
