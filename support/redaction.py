"""Removes payment card data from text kept for people (ticket transcripts, the helpdesk).

A card number is any run of 13 to 19 digits, possibly grouped by spaces or dashes (a mistyped
card number is still a card number, so there is no Luhn check); a security code is 3 or 4 digits written near words such as CVV, CVC or cryptogramme.
"""

from __future__ import annotations

import re

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
