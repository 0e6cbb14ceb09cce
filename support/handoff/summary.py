"""What an agent reads first: why a person is needed, the subject, the account's state, what the bot said."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional

from support import i18n
from support.billing.accounts import AccountView
from support.billing.invoices import AttemptLine, InvoiceLine
from support.formatting import day, money
from support.handoff.transcript import HandoffRequest
from support.vocabulary import Author, HandoffReason, SubscriptionStatus

BOT_TOLD_KEPT = 4

# The bot's last answer before the request tells why a person is needed (utter_action of the bot event).
REASON_AFTER_RESPONSE = {
    "utter_offer_human": HandoffReason.NOT_UNDERSTOOD,
    "utter_refund_policy": HandoffReason.ANNUAL_REFUND,
    "utter_telephony_refund": HandoffReason.TELEPHONY_REFUND_REVIEW,
    "utter_telephony_balance": HandoffReason.TELEPHONY_REFUND_REVIEW,
    "utter_cancel_on_premise": HandoffReason.ON_PREMISE_LICENCE,
    "utter_on_premise_account": HandoffReason.ON_PREMISE_LICENCE,
    "utter_status_on_premise": HandoffReason.ON_PREMISE_LICENCE,
    "utter_retry_rate_limited": HandoffReason.PAYMENT_RETRIES_EXHAUSTED,
    "utter_retry_declined": HandoffReason.PAYMENT_RETRIES_EXHAUSTED,
    "utter_renewal_failed_downgraded": HandoffReason.PAYMENT_RETRIES_EXHAUSTED,
    "utter_cancellation_confirmation": HandoffReason.CANCELLATION_DISPUTE,
    "utter_cancel_done": HandoffReason.CANCELLATION_DISPUTE,
    "utter_downgrade_done": HandoffReason.CANCELLATION_DISPUTE,
    "utter_already_canceled": HandoffReason.CANCELLATION_DISPUTE,
}
# Requests that always need a person, whatever the bot said before: the customer's request is the reason.
REASON_OF_INTENT = {
    "billing_dispute": HandoffReason.BILLING_DISPUTE,
    "privacy_request": HandoffReason.PRIVACY_REQUEST,
}
NOT_A_TOPIC = {"human_handoff", "affirm", "deny", "greet", "goodbye", "thank", "out_of_scope", "nlu_fallback", None}


def infer_reason(events: List[Dict[str, Any]]) -> str:
    """Why a person is needed, from the bot's last answer before this request (its last response of that turn
    that says something about it: a turn can end with "anything else?")."""
    latest = next((event for event in reversed(events) if event.get("event") == "user"), None)
    intent = ((latest or {}).get("parse_data") or {}).get("intent") or {}
    if intent.get("name") in REASON_OF_INTENT:
        return REASON_OF_INTENT[intent["name"]]
    seen_answer = False
    for event in reversed(events):
        if event.get("event") == "user" and seen_answer:
            break
        if event.get("event") == "bot":
            seen_answer = True
            response = (event.get("metadata") or {}).get("utter_action")
            if response in REASON_AFTER_RESPONSE:
                return REASON_AFTER_RESPONSE[response]
    return HandoffReason.CUSTOMER_REQUEST


def infer_topic(events: List[Dict[str, Any]]) -> Optional[str]:
    """The last subject the customer asked about (an intent name), if any."""
    for event in reversed(events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent not in NOT_A_TOPIC:
                return intent
    return None


@dataclass(frozen=True)
class BillingHistory:
    """What an agent checks first on a disputed charge."""

    invoices: List[InvoiceLine]
    attempts: List[AttemptLine]


def summary(
    view: Optional[AccountView], request: HandoffRequest, now: datetime, history: Optional[BillingHistory] = None
) -> Dict[str, Any]:
    """What an agent needs in ten seconds: who, which subject, the account's state, what the bot said."""
    facts: List[Dict[str, str]] = [
        {"label": "Reason", "value": request.reason.replace("_", " ")},
        {"label": "Topic", "value": (request.topic or "none").replace("_", " ")},
        {"label": "Language", "value": request.language.upper()},
        {"label": "Channel", "value": request.channel},
    ]
    if view is None:
        headline = f"Anonymous visitor ({request.channel}), {(request.topic or 'no topic').replace('_', ' ')}"
        facts.append({"label": "Customer", "value": "not signed in"})
    else:
        facts += account_facts(view, now)
        state = view.status.replace("_", " ")
        headline = (
            f"{view.email} ({view.role}, {view.portal}): {(request.topic or request.reason).replace('_', ' ')}"
            f"; {view.plan_name} {view.billing_cycle}, {state}"
        )
        if view.last_failure_reason:
            headline += f", last failure {view.last_failure_reason.replace('_', ' ')}"
        if view.status == SubscriptionStatus.PAST_DUE and view.grace_end:
            headline += f", grace period ends {view.grace_end.date().isoformat()}"
    if history is not None:
        facts += history_facts(history)
    bot_told = [line.text for line in request.lines if line.author == Author.BOT][-BOT_TOLD_KEPT:]
    return {"headline": headline, "facts": facts, "bot_told": bot_told}


def history_facts(history: BillingHistory) -> List[Dict[str, str]]:
    """One fact per recent invoice and payment attempt, newest first."""
    facts = [
        {
            "label": "Invoice",
            "value": f"#{line.id} issued {day(line.issued, 'en')}, {day(line.period_start, 'en')} to "
            f"{day(line.period_end, 'en')}, {money(line.amount_minor, line.currency, 'en')}, {line.status}",
        }
        for line in history.invoices
    ]
    for attempt in history.attempts:
        outcome = attempt.outcome + (f" ({attempt.failure_reason.replace('_', ' ')})" if attempt.failure_reason else "")
        facts.append(
            {
                "label": "Payment attempt",
                "value": f"{attempt.at.strftime('%Y-%m-%d %H:%M')} UTC, "
                f"{money(attempt.amount_minor, attempt.currency, 'en')}, {outcome}, by {attempt.triggered_by}",
            }
        )
    return facts


def account_facts(view: AccountView, now: datetime) -> List[Dict[str, str]]:
    facts = [
        {"label": "Customer", "value": f"{view.email} ({view.role})"},
        {"label": "Account", "value": f"{view.portal} ({view.edition.replace('_', '-')})"},
        {
            "label": "Plan",
            "value": f"{view.plan_name} ({view.billing_cycle}), {money(view.price_minor, view.currency, 'en')}",
        },
        {
            "label": "Status",
            "value": view.status.replace("_", " ") + (", cancels at period end" if view.cancel_at_period_end else ""),
        },
    ]
    if view.period_end:
        facts.append({"label": "Period ends", "value": day(view.period_end, "en")})
    if view.last_failure_reason:
        facts.append(
            {
                "label": "Last failure",
                "value": f"{view.last_failure_reason.replace('_', ' ')} (failed attempts: {view.failed_attempts})",
            }
        )
    if view.status == SubscriptionStatus.PAST_DUE and view.grace_end:
        facts.append(
            {
                "label": "Grace period ends",
                "value": f"{day(view.grace_end, 'en')} "
                f"({i18n.plural('en', 'summary.grace_days_left', view.grace_days_left(now))})",
            }
        )
    if view.card:
        card = view.card
        expired = " - EXPIRED" if card.expired(now) else ""
        facts.append(
            {
                "label": "Card",
                "value": f"{card.brand.title()} ending {card.last4}, {card.exp_month:02d}/{card.exp_year}{expired}",
            }
        )
    if view.telephony_minor:
        facts.append({"label": "Telephony credit", "value": money(view.telephony_minor, view.telephony_currency, "en")})
    if view.account_manager:
        facts.append({"label": "Account manager", "value": view.account_manager})
    return facts
