"""Chooses the reply language from the NLU's detection and the conversation so far.

A detection decides the language only when the text reads as that language, not as noise that
happens to sound like it: 50,000 × "é" sounds French and ``1' AND sleep(5)#`` sounds English to
the detector. The detector (components/language_detector.py) therefore attaches what `measure`
counts in the message; `choose_language` reads those counts:

- changing the language the conversation (or the channel's locale) already has needs a sentence:
  SWITCH_MIN_WORDS different words of two letters or more, plus the letter rules below;
- choosing it on a first turn that nothing else tells about (no locale, no earlier language) needs
  letters of the language, but one word is enough: there is no language to protect yet, and a
  customer whose first message is "Bonjour !" on Messenger or Slack (no locale) is answered in
  French (tests/e2e/test_messenger_channels.py);
- in both cases the letters (French and English letters only, so Cyrillic or CJK text does not
  count) make at least MIN_LETTER_SHARE of the non-space characters, and there are at least
  MIN_DISTINCT_LETTERS different letters, so that symbols, code, emoji floods and floods of one or
  two letters decide nothing; links and e-mail addresses are not counted at all.

The thresholds were measured on 2,412 messages that are not training data (bench/heldout,
bench/fresh and ../shared/eval/external.csv, French and English, from "bjr" to long complaints):

- 2,189 have 3 different words or more; every one of them has letters making at least 70% of its
  non-space characters and at least 5 different letters, so MIN_LETTER_SHARE = 0.5 leaves room for a
  sentence with an amount, a date or a card's last digits, and MIN_DISTINCT_LETTERS = 3 refuses only
  floods ("zzzzzz", "ggggggg", "hmmmm") and words too short to be detected anyway ("non", "lol");
- the 223 shorter ones are greetings, thanks, yes and no ("merci beaucoup", "non merci",
  "résiliation abonnement"): they keep the conversation's language, like "ok" and "👍";
- with the sentence rule, a confidence of 0.85 switches 2,033 of the 2,189 sentences to their own
  language (0.9: 1,882, and "how do I cancel my plan" scores 0.899) and one to the wrong language, as
  0.9 does (0.907, a French request naming an English album); the other 12 detections in the wrong
  language score 0.83 or less.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any, Dict, Mapping, Optional

SUPPORTED = ("fr", "en")
# Switching away from the conversation's language needs a clear signal: a sentence (see above)
# detected with this confidence; franglais ("c'est où le billing") must not flip the conversation.
SWITCH_CONFIDENCE = 0.85
SWITCH_MIN_WORDS = 3  # different words of 2+ letters: "ok", "merci beaucoup", `AND sleep` are not sentences
FIRST_TURN_MIN_WORDS = 1  # "Bonjour !" chooses French when neither a locale nor the conversation tells
MIN_LETTER_SHARE = 0.5  # letters / non-space characters: code, symbols and emoji floods stay below
MIN_DISTINCT_LETTERS = 3  # "éééé…", "hahaha", "ab ab ab" are floods, not words

_LETTER_CLASS = "a-zàâæçéèêëîïôœùûüÿ"  # the letters of French and English (any case)
_LETTER = re.compile(f"[{_LETTER_CLASS}]", re.IGNORECASE)
_WORD = re.compile(f"[{_LETTER_CLASS}]{{2,}}", re.IGNORECASE)
# a link, an e-mail address, a domain, a path or a file name: letters, but no language
_MACHINE_TOKEN = re.compile(r"://|@|^www\.|\w[./\\]\w", re.IGNORECASE)


def measure(text: str) -> Dict[str, int]:
    """What the language choice needs to know about a message's text (callers cap its length).

    words: different words of two letters or more (case-insensitive); letters: French or English
    letters; others: the other non-space characters (digits, punctuation, symbols, emoji, control
    characters); distinct_letters: different letters. NFKC first, so that "é" written as e + accent
    or full-width letters count as the letters they show; links, e-mail addresses, domains, paths
    and file names ("https://…", "www.…", "x@y.fr", "a/b", "x.php") count for nothing.
    """
    tokens = [t for t in unicodedata.normalize("NFKC", text or "").split() if not _MACHINE_TOKEN.search(t)]
    text = " ".join(tokens)
    letters = _LETTER.findall(text)
    characters = sum(len(token) for token in tokens)
    return {
        "words": len({word.casefold() for word in _WORD.findall(text)}),
        "letters": len(letters),
        "others": characters - len(letters),
        "distinct_letters": len({letter.casefold() for letter in letters}),
    }


def _count(detected: Mapping[str, Any], key: str) -> int:
    value = detected.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def reads_as_language(detected: Mapping[str, Any], min_words: int) -> bool:
    """Whether the measured text (the counts of `measure` in `detected`) is written in enough letters.

    A detection without the counts reads as nothing: it can never change the language.
    """
    letters = _count(detected, "letters")
    return (
        _count(detected, "words") >= min_words
        and _count(detected, "distinct_letters") >= MIN_DISTINCT_LETTERS
        and letters >= MIN_LETTER_SHARE * (letters + _count(detected, "others"))
    )


def locale_language(metadata: Optional[Dict[str, Any]]) -> Optional[str]:
    """Maps a channel locale such as 'fr-CA' or 'en_US' to 'fr' or 'en'."""
    locale = str((metadata or {}).get("locale") or "").lower()[:2]
    return locale if locale in SUPPORTED else None


def choose_language(current: Optional[str], detected: Optional[Dict[str, Any]], default: str) -> str:
    """Returns 'fr' or 'en' for the reply.

    current: the conversation's language so far (None on the first turn).
    detected: the `language` property of the parse data: code, confidence, locale and the counts
    of `measure` (words, letters, others, distinct_letters).
    """
    detected = detected or {}
    code = detected.get("code")
    prior = current if current in SUPPORTED else detected.get("locale")
    if prior not in SUPPORTED:
        return code if code in SUPPORTED and reads_as_language(detected, FIRST_TURN_MIN_WORDS) else default
    if (
        code in SUPPORTED
        and code != prior
        and detected.get("confidence", 0) >= SWITCH_CONFIDENCE
        and reads_as_language(detected, SWITCH_MIN_WORDS)
    ):
        return code
    return prior


@functools.lru_cache(maxsize=1)
def _lingua() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.FRENCH, Language.ENGLISH).build()


def guess_language(text: str) -> Optional[str]:
    """The language of a text the NLU will not see (a message refused at the edge), from its first
    sentences; None when it does not read as French or English."""
    sample = text[:1000]
    if not reads_as_language(measure(sample), SWITCH_MIN_WORDS):
        return None
    found = _lingua().detect_language_of(sample)
    return {"FRENCH": "fr", "ENGLISH": "en"}.get(found.name) if found is not None else None
