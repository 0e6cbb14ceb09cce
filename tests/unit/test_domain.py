"""Every response exists in French and English, and the intent contract holds."""

from __future__ import annotations

import json
import re

import pytest
from rasa.core.nlg.interpolator import interpolate_text

from components.language_detector import LanguageDetector
from support.settings import product, response_slots
from tests.helpers.domain import load_domain
from tests.helpers.server import ROOT

DOMAIN = load_domain()
CONTRACT = [
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "human_handoff",
    "out_of_scope",
    "cancel_subscription",
    "downgrade_free_plan",
    "refund_policy",
    "telephony_refund",
    "export_data",
    "after_cancellation",
    "delete_account",
    "cancel_on_premise",
    "find_billing_settings",
    "free_plan_limits",
    "renewal_failed",
    "retry_payment",
    "update_payment_method",
    "grace_period",
    "subscription_status",
    "cancellation_confirmation",
    "how_are_you",
    "reactivate_subscription",
    "invoice_request",
    "billing_dispute",
    "change_plan",
    "payment_methods",
    "privacy_request",
    "email_status",
    "rate_satisfaction",
]
DETECTOR = LanguageDetector(LanguageDetector.get_default_config())


def _is_french(variation: dict) -> bool:
    return {"type": "slot", "name": "language", "value": "fr"} in (variation.get("condition") or [])


def _texts(variation: dict) -> str:
    return " ".join([variation["text"], *(b["title"] for b in variation.get("buttons", []))])


def test_intents_are_exactly_the_contract() -> None:
    assert sorted(DOMAIN["intents"]) == sorted(CONTRACT)


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_response_has_french_and_english(name: str) -> None:
    variations = DOMAIN["responses"][name]
    french = [v for v in variations if _is_french(v)]
    english = [v for v in variations if not v.get("condition")]
    assert french, f"{name} has no French variation"
    assert english, f"{name} has no English (default) variation"
    for variation in french:
        assert DETECTOR.detect(variation["text"])["code"] == "fr", variation["text"]
    for variation in english:
        assert DETECTOR.detect(variation["text"])["code"] == "en", variation["text"]
        # the same quick replies, in the same order, in both languages
        assert [b["payload"] for b in variation.get("buttons", [])] == [
            b["payload"] for b in french[0].get("buttons", [])
        ]


ACTIONS_SOURCE = "\n".join(
    p.read_text(encoding="utf-8") for folder in ("actions", "support") for p in (ROOT / folder).rglob("*.py")
)


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_placeholders_are_filled_in_both_languages(name: str) -> None:
    """A placeholder is a product.yml fact (a slot) or a parameter the actions pass; FR and EN use the same."""
    placeholders = [set(re.findall(r"{(\w+)}", _texts(v))) for v in DOMAIN["responses"][name]]
    assert all(p == placeholders[0] for p in placeholders), f"{name}: French and English use different placeholders"
    for placeholder in placeholders[0]:
        if placeholder in response_slots():
            assert placeholder in DOMAIN["slots"], f"{name}: {{{placeholder}}} has no slot"
        else:
            assert re.search(rf"\b{placeholder}=|\"{placeholder}\":", ACTIONS_SOURCE), (
                f"{name}: no action passes {{{placeholder}}}"
            )


def test_product_facts_are_not_hard_coded_in_responses() -> None:
    facts = product()
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            text = _texts(variation)
            assert facts.product_name not in text, f"{name} hard-codes the product name"
            assert facts.support_url not in text, f"{name} hard-codes the support URL"
            assert not re.search(rf"\b{facts.grace_days}\b", text), f"{name} hard-codes the grace period"


def test_button_payloads_are_known_intents() -> None:
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            for button in variation.get("buttons", []):
                intent, _, entities = button["payload"].lstrip("/").partition("{")
                assert intent in CONTRACT, f"{name}: {button['payload']}"
                if entities:  # braces doubled (Rasa's interpolator), entities declared in the domain
                    found = json.loads(interpolate_text("{" + entities, {}))
                    assert set(found) <= set(DOMAIN["entities"]), f"{name}: {button['payload']}"


def test_every_topic_a_customer_can_mean_has_a_clarifying_button() -> None:
    from actions.session import TOPIC_KEYS
    from support.clarification import NOT_TOPICS

    assert sorted(set(DOMAIN["intents"]) - NOT_TOPICS) == sorted(TOPIC_KEYS)


@pytest.mark.parametrize("name", sorted(DOMAIN["responses"]))
def test_a_response_is_one_message_on_every_channel(name: str) -> None:
    """Rasa's socket.io channel sends each paragraph of a text as its own message: a blank line would make the
    widget show more messages than the conversation holds."""
    for variation in DOMAIN["responses"][name]:
        assert "\n\n" not in variation.get("text", ""), name
