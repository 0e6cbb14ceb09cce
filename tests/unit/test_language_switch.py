"""The reply language changes only on a real sentence: floods, SQL, links and emoji never switch it."""

from __future__ import annotations

from typing import Dict, List

import pytest
import yaml

from components.language_detector import LanguageDetector
from support.language import FIRST_TURN_MIN_WORDS, SWITCH_MIN_WORDS, choose_language, measure, reads_as_language
from support.settings import ROOT


def _project_examples() -> Dict[str, List[str]]:
    """data/nlu's examples with the language their intent block declares, as the trained detector learns them."""
    texts, languages = [], []
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            language = (block.get("metadata") or {}).get("language")
            for line in block["examples"].strip().splitlines():
                if language:
                    texts.append(line.strip()[2:].strip())
                    languages.append(language)
    return {"texts": texts, "languages": languages}


@pytest.fixture(scope="module", params=["lingua", "trained"])
def detector(request) -> LanguageDetector:
    """lingua alone (as the other tests use it), and lingua with the project's classifier (as the model runs it)."""
    config = LanguageDetector.get_default_config()
    return LanguageDetector(config, examples=_project_examples() if request.param == "trained" else None)


@pytest.fixture(scope="module")
def trained() -> LanguageDetector:
    return LanguageDetector(LanguageDetector.get_default_config(), examples=_project_examples())


# Input that is no sentence, yet that a detector may hear as French or English with confidence.
# The ones in NO_LANGUAGE have no word of the language at all: they do not even choose the first turn's.
NO_LANGUAGE = {
    "é × 50,000": "é" * 50_000,
    "one letter": "a" * 300,
    "one word repeated": "éééé éééé éééé éééé",
    "two letters": "ééé éée éeé eée",
    "laughter": "hahaha hahaha hahahaha",
    "sql, always true": "' OR 1=1 --",
    "url": "https://www.example.com/fr/compte/abonnement?id=12345&lang=fr",
    "url, English path": "http://evil.example/login.php?user=admin&next=/account/cancel-my-subscription",
    "bare domains": "www.exemple.fr/resilier-mon-abonnement www.example.com/cancel-my-plan",
    "e-mail address": "jean.dupont@exemple.fr",
    "emoji flood": "😡" * 500,
    "emoji around a word": "🔥🔥🔥 cancel 🔥🔥🔥🔥🔥🔥",
    "template syntax": "{product_name} {0} %s ${HOME} {{7*7}}",
    "control characters": "\x00\x07\x1b[31m\x08" * 10,
    "another alphabet": "я хочу отменить подписку",
}
NOT_A_SENTENCE = {
    **NO_LANGUAGE,
    "sql, time-based": "1' AND sleep(5)#",
    "sql, union": "1' UNION SELECT 1,2,3--",
    "sql, comment": "admin'--",
    "one long French word": "anticonstitutionnellement",
    "one long English word": "Supercalifragilisticexpialidocious",
    "one word glued 100 times": "résiliation" * 100,
    "two words": "merci beaucoup",
    "a greeting": "bonjour",
}


@pytest.mark.parametrize("kind", sorted(NOT_A_SENTENCE))
@pytest.mark.parametrize("current", ["fr", "en"])
def test_what_is_no_sentence_never_switches_the_language(detector, kind: str, current: str) -> None:
    detected = detector.detect(NOT_A_SENTENCE[kind])
    assert choose_language(current, detected, "en") == current, detected
    # the channel's locale is kept the same way on a first turn
    assert choose_language(None, {**detected, "locale": current}, "en") == current, detected


@pytest.mark.parametrize("kind", sorted(NO_LANGUAGE))
@pytest.mark.parametrize("default", ["fr", "en"])
def test_what_has_no_word_of_the_language_leaves_the_first_turn_to_the_default(
    detector, kind: str, default: str
) -> None:
    detected = detector.detect(NO_LANGUAGE[kind])
    assert choose_language(None, detected, default) == default, detected


@pytest.mark.parametrize(
    "current, text, expected",
    [
        ("en", "je voudrais résilier mon abonnement", "fr"),
        ("fr", "how do I cancel my plan", "en"),
        ("fr", "why did my card payment fail?", "en"),
        ("en", "d'accord, et comment je change ma carte bancaire ?", "fr"),
        ("en", "mon paiement a échoué", "fr"),
        ("fr", "thank you very much", "en"),
        ("fr", "how do I cancel my plan https://acme.example.com/billing", "en"),  # a link does not hide it
        ("en", "pourquoi on m'a prélevé 99,00 € le 12/03/2025 ? 😡", "fr"),  # nor an amount, a date, an emoji
    ],
)
def test_a_real_short_sentence_in_the_other_language_still_switches(
    trained, current: str, text: str, expected: str
) -> None:
    assert choose_language(current, trained.detect(text), "en") == expected


@pytest.mark.parametrize("text", ["ok", "👍", "slt", "/affirm", "merci", "yes"])
def test_neutral_messages_keep_the_language(trained, text: str) -> None:
    assert choose_language("fr", trained.detect(text), "en") == "fr"
    assert choose_language("en", trained.detect(text), "fr") == "en"


@pytest.mark.parametrize(
    "text, default, expected",
    [
        ("Bonjour !", "en", "fr"),  # Messenger and Slack give no locale: a greeting chooses the language
        ("annuler abonnement", "en", "fr"),
        ("hello there, how are you?", "fr", "en"),
        ("' OR 1=1 --", "fr", "fr"),  # no word of the language: the default
    ],
)
def test_the_first_turn_without_locale_follows_words_of_the_language(
    trained, text: str, default: str, expected: str
) -> None:
    assert choose_language(None, trained.detect(text), default) == expected


def test_measure_counts_words_letters_and_the_rest() -> None:
    assert measure("1' AND sleep(5)#") == {"words": 2, "letters": 8, "others": 6, "distinct_letters": 7}
    assert measure("Je je JE veux") == {"words": 2, "letters": 10, "others": 0, "distinct_letters": 5}
    assert measure("re\u0301silier")["words"] == 1  # "é" written as e + combining accent is one letter
    assert measure("ｃａｎｃｅｌ")["letters"] == 6  # full-width letters are letters
    assert measure("voir https://x.example/a?b=c et a@b.fr") == {
        "words": 2,
        "letters": 6,
        "others": 0,
        "distinct_letters": 6,
    }
    assert measure("")["words"] == measure("👍")["letters"] == 0


def test_the_detector_measures_only_the_text_it_detects() -> None:
    detected = LanguageDetector(LanguageDetector.get_default_config()).detect("é" * 50_000)
    assert (detected["letters"], detected["words"], detected["distinct_letters"]) == (2000, 1, 1)


@pytest.mark.parametrize(
    "detected",
    [
        {},  # parse data from before the counts: never a switch
        {"words": "9", "letters": 40, "others": 0, "distinct_letters": 10},
        {"words": True, "letters": 40, "others": 0, "distinct_letters": 10},
        {"words": 9, "letters": 40, "others": 41, "distinct_letters": 10},
        {"words": 9, "letters": 40, "others": 0, "distinct_letters": 2},
    ],
)
def test_counts_that_are_missing_odd_or_too_low_read_as_no_sentence(detected) -> None:
    assert not reads_as_language(detected, SWITCH_MIN_WORDS)
    assert not reads_as_language(detected, FIRST_TURN_MIN_WORDS)
