"""What a manager reads of customers' messages (the top messages not understood, satisfaction comments):
card data, emails, phone numbers, IBANs and people's names removed; amounts, dates and plan names kept."""

from __future__ import annotations

import pytest

from support.redaction import PersonalDataRedactor

REDACTOR = PersonalDataRedactor()
REDACTOR.add_names(["Alice Martin", "Grace Hopper"])


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "Bonjour, je suis Jean Dupont, mon mail est jean.dupont@gmail.com",
            "Bonjour, je suis [name], mon mail est [email]",
        ),
        ("appelez-moi au 06 12 34 56 78 svp", "appelez-moi au [phone] svp"),
        ("call +1 (415) 555-0199 asap", "call [phone] asap"),
        ("my IBAN is FR76 3000 6000 0112 3456 7890 189", "my IBAN is [IBAN]"),
        ("hi my name is Jane Doe, card 4242 4242 4242 4242", "hi my name is [name], card [card number removed]"),
        ("Marie Curie a annulé notre abonnement hier", "[name] a annulé notre abonnement hier"),
        ("alice wants a refund", "[name] wants a refund"),  # a customer of ours, known by name
        ("grace said the renewal failed", "[name] said the renewal failed"),
    ],
)
def test_personal_data_is_removed(text: str, expected: str) -> None:
    assert REDACTOR.redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I paid 199 euros on 3 March 2026",
        "we have 25 users on the Professional plan",
        "le prélèvement de 49,00 € du 12/11 a échoué",
        "why was I charged twice?",
        "pourquoi mon renouvellement a échoué ?",
    ],
)
def test_what_is_not_personal_stays(text: str) -> None:
    assert REDACTOR.redact(text) == text
