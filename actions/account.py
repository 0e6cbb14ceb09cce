"""Account-aware answers: thin Rasa actions over accounts.py and subscription_changes.py.

Every run verifies the token of the message being answered (identity.py); without a valid
one the customer gets the general answer and an invitation to sign in. Replies are collected
while the transaction runs and sent only once it has committed, so a database failure never
leaves a half-told story: the customer gets an apology and the offer of a person instead.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.safety import SafeAction
from actions.tracker import conversation_language, latest_user_metadata
from support import i18n
from support.adapters import configured_gateway
from support.billing.accounts import AccountView, account_view
from support.billing.payment_retry import retry_payment
from support.billing.subscription_changes import (
    CANCEL,
    DOWNGRADE,
    accept_retention_offer,
    effective_date,
    keep_subscription,
    schedule_end,
)
from support.clock import now_utc
from support.db.engine import engine, session_scope
from support.formatting import day, money, number
from support.identity import verified_email
from support.settings import product
from support.vocabulary import Edition, SubscriptionStatus

PENDING_STEPS = (
    "cancel_offer",
    "cancel_confirm",
    "downgrade_confirm",
    "retry_confirm",
    "reactivate_confirm",
    "email_resend_confirm",
)

logger = logging.getLogger(__name__)

Reply = Tuple[str, Dict[str, Any]]


@dataclass
class Turn:
    """What one action run knows and what it will say."""

    view: AccountView
    language: str
    now: datetime
    conversation_id: str
    session: Session
    replies: List[Reply] = field(default_factory=list)
    after_commit: Optional[Callable[[Turn], None]] = None  # work with its own transactions (a payment)

    def say(self, response: str, **params: Any) -> None:
        self.replies.append((response, params))

    def money(self, minor: int, currency: Optional[str] = None) -> str:
        return money(minor, currency or self.view.currency, self.language)

    def day(self, value: Optional[datetime]) -> str:
        return day(value or self.now, self.language)

    @property
    def card(self) -> str:
        card = self.view.card
        return f"{card.brand.title()} •••• {card.last4} ({card.exp_month:02d}/{card.exp_year})" if card else "-"

    @property
    def change_date(self) -> datetime:
        return effective_date(self.view.period_end, self.now)

    def free_limits(self) -> Dict[str, Any]:
        return {"max_users": self.view.free_max_users, "max_storage_gb": self.view.free_storage_gb}


class AccountAction(SafeAction):
    """Answers `intent` from the signed-in customer's account, or generally for anyone else.
    Abstract, so that rasa-sdk registers only its subclasses (one action per intent)."""

    intent = ""

    def name(self) -> str:
        return f"action_{self.intent}"

    @abstractmethod
    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        """The replies (turn.say) and events for a signed-in customer, inside one transaction."""

    def anonymous(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        dispatcher.utter_message(response=f"utter_{self.intent}")
        dispatcher.utter_message(response="utter_sign_in_for_account")
        return pending(None)

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        email = verified_email(latest_user_metadata(tracker), tracker.sender_id)
        if email is None:
            return self.anonymous(dispatcher, tracker)
        try:
            with session_scope() as session:
                view = account_view(session, email)
                if view is None:
                    dispatcher.utter_message(response="utter_account_not_found")
                    return pending(None)
                turn = Turn(view, conversation_language(tracker), now_utc(), tracker.sender_id, session)
                events = self.answer(turn, tracker)
            if turn.after_commit is not None:
                turn.after_commit(turn)
        except SQLAlchemyError as error:
            logger.warning("database unavailable in %s: %s", self.name(), type(error).__name__)
            dispatcher.utter_message(response="utter_database_unavailable")
            return pending(None)
        for response, params in turn.replies:
            dispatcher.utter_message(response=response, **params)
        return events


class ActionSubscriptionStatus(AccountAction):
    intent = "subscription_status"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        common = {"portal": view.portal, "plan": view.plan_name, "price": turn.money(view.price_minor)}
        if view.edition == Edition.ON_PREMISE:
            turn.say("utter_status_on_premise", date=turn.day(view.period_end), manager=view.account_manager, **common)
        elif view.status == SubscriptionStatus.FREE:
            turn.say("utter_status_free", **common)
        elif view.status == SubscriptionStatus.PAST_DUE:
            turn.say(
                "utter_status_past_due",
                failed_on=turn.day(view.first_failure_at),
                grace_end=turn.day(view.grace_end),
                **common,
            )
        elif view.cancel_at_period_end:
            turn.say("utter_status_canceling", date=turn.day(view.period_end), **common)
        else:
            turn.say(f"utter_status_active_{view.billing_cycle}", date=turn.day(view.period_end), **common)
        if view.edition != Edition.ON_PREMISE:
            say_usage_and_card(turn)
        return []


def say_usage_and_card(turn: Turn) -> None:
    """Users and storage against the plan's limits, and the card the next payment will use."""
    view = turn.view
    turn.say(
        "utter_status_usage",
        users=number(view.users_in_use, turn.language),
        max_users=number(view.plan_max_users, turn.language),
        storage_gb=number(round(view.storage_used_mb / 1024, 1), turn.language),
        max_storage_gb=number(view.plan_storage_gb, turn.language),
    )
    if view.card is not None:
        expired = view.card.expired(turn.now)
        turn.say("utter_status_card_expired" if expired else "utter_status_card", card=turn.card)


class ActionRenewalFailed(AccountAction):
    intent = "renewal_failed"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if view.status == SubscriptionStatus.PAST_DUE and view.last_failure_reason:
            turn.say(
                "utter_renewal_failed_account",
                plan=view.plan_name,
                price=turn.money(view.price_minor),
                failed_on=turn.day(view.first_failure_at),
                attempts=view.failed_attempts,
            )
            turn.say(
                "utter_renewal_failed_grace",
                grace_end=turn.day(view.grace_end),
                grace_days=product().grace_days,
                days_left=i18n.plural(turn.language, "account.days", view.grace_days_left(turn.now)),
            )
            turn.say(f"utter_reason_{view.last_failure_reason}", card=turn.card)
        elif view.status == SubscriptionStatus.FREE and view.failed_attempts:
            turn.say(
                "utter_renewal_failed_downgraded",
                portal=view.portal,
                attempts=i18n.plural(turn.language, "account.failed_payment_attempts", view.failed_attempts),
            )
        else:
            turn.say("utter_renewal_ok", plan=view.plan_name, date=turn.day(view.period_end))
        return []


class ActionGracePeriod(AccountAction):
    intent = "grace_period"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if view.status == SubscriptionStatus.PAST_DUE and view.grace_end:
            turn.say(
                "utter_grace_period_account",
                grace_end=turn.day(view.grace_end),
                days_left=i18n.plural(turn.language, "account.days", view.grace_days_left(turn.now)),
            )
        else:
            turn.say("utter_grace_period_none")
        return []


class ActionTelephonyRefund(AccountAction):
    intent = "telephony_refund"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        turn.say("utter_telephony_balance", balance=turn.money(turn.view.telephony_minor, turn.view.telephony_currency))
        return []


class ActionFreePlanLimits(AccountAction):
    intent = "free_plan_limits"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        usage = {
            "users": view.users_in_use,
            "storage_gb": number(round(view.storage_used_mb / 1024, 1), turn.language),
            **turn.free_limits(),
        }
        turn.say("utter_free_plan_usage_over" if view.over_free_limits else "utter_free_plan_usage_ok", **usage)
        return []


class ActionCancelOnPremise(AccountAction):
    intent = "cancel_on_premise"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        if turn.view.edition == Edition.ON_PREMISE:
            turn.say("utter_on_premise_account", portal=turn.view.portal, manager=turn.view.account_manager)
        else:
            turn.say("utter_not_on_premise", portal=turn.view.portal)
        return []


def refused_to_non_admin(turn: Turn, not_admin: str = "utter_only_admin_can") -> bool:
    """On-premise licences are the account manager's; the rest only the admin may do (says so if refused)."""
    view = turn.view
    if view.edition == Edition.ON_PREMISE:
        turn.say("utter_on_premise_account", portal=view.portal, manager=view.account_manager)
    elif not view.is_admin:
        turn.say(not_admin, portal=view.portal, admin_email=view.admin_email)
    else:
        return False
    return True


def _refusal(turn: Turn) -> bool:
    """Says why this customer cannot change the subscription, if they cannot."""
    view = turn.view
    if refused_to_non_admin(turn):
        return True
    if view.status == SubscriptionStatus.FREE:
        turn.say("utter_already_free")
    elif view.cancel_at_period_end:
        turn.say("utter_already_canceled", plan=view.plan_name, date=turn.day(turn.change_date))
    else:
        return False
    return True


def pending(step: Optional[str]) -> List[EventType]:
    """The question now waiting for the customer's yes or no (None: no question)."""
    return [SlotSet("pending_change", step)]


def _offer_params() -> Dict[str, Any]:
    facts = product()
    return {"discount_percent": facts.retention_discount_percent, "discount_months": facts.retention_discount_months}


class ActionCancelSubscription(AccountAction):
    """What the admin loses and from when, an export reminder, one retention offer, then a confirmation."""

    intent = "cancel_subscription"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        if _refusal(turn):
            return pending(None)
        turn.say(
            "utter_cancel_preview", plan=turn.view.plan_name, date=turn.day(turn.change_date), **turn.free_limits()
        )
        return ask_cancel_offer_or_confirmation(turn)


def ask_cancel_offer_or_confirmation(turn: Turn) -> List[EventType]:
    """The retention offer comes once; a customer who already took it goes straight to the confirmation."""
    if not turn.view.discount_percent:
        turn.say("utter_retention_offer", **_offer_params())
        return pending("cancel_offer")
    turn.say("utter_confirm_cancel", plan=turn.view.plan_name, portal=turn.view.portal, date=turn.day(turn.change_date))
    return pending("cancel_confirm")


class ActionDowngradeFreePlan(AccountAction):
    intent = "downgrade_free_plan"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        if _refusal(turn):
            return pending(None)
        turn.say(
            "utter_downgrade_preview", plan=turn.view.plan_name, date=turn.day(turn.change_date), **turn.free_limits()
        )
        turn.say("utter_confirm_downgrade", portal=turn.view.portal, date=turn.day(turn.change_date))
        return pending("downgrade_confirm")


class ActionReactivateSubscription(AccountAction):
    """Undoes a scheduled cancellation or downgrade after a confirmation; the free plan gets how to subscribe."""

    intent = "reactivate_subscription"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if refused_to_non_admin(turn):
            return pending(None)
        if view.status in (SubscriptionStatus.FREE, SubscriptionStatus.CANCELED):
            turn.say("utter_reactivate_free", portal=view.portal)
        elif not view.cancel_at_period_end:
            turn.say("utter_reactivate_not_needed", plan=view.plan_name, date=turn.day(view.period_end))
        else:
            turn.say("utter_confirm_reactivate", plan=view.plan_name, date=turn.day(turn.change_date))
            return pending("reactivate_confirm")
        return pending(None)


def keep_now(turn: Turn) -> None:
    """The admin said yes to keeping the subscription."""
    view = turn.view
    outcome = keep_subscription(turn.session, view.email, turn.conversation_id, turn.language, turn.now)
    if outcome.status == "done":
        turn.say("utter_reactivate_done", plan=view.plan_name, date=turn.day(outcome.effective), email=view.email)
    elif outcome.status == "not_admin":
        turn.say("utter_only_admin_can", portal=view.portal, admin_email=outcome.admin_email)
    elif outcome.status == "already":
        turn.say("utter_reactivate_not_needed", plan=view.plan_name, date=turn.day(outcome.effective))
    else:
        turn.say("utter_reactivate_free", portal=view.portal)


class ActionRetryPayment(AccountAction):
    """Shows the card and the amount, then asks before charging (an expired card is not retried)."""

    intent = "retry_payment"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if not view.is_admin:
            turn.say("utter_only_admin_can", portal=view.portal, admin_email=view.admin_email)
        elif view.status != SubscriptionStatus.PAST_DUE:
            turn.say("utter_retry_not_needed")
        elif view.card is None or view.card.expired(turn.now):
            turn.say("utter_retry_card_expired", card=turn.card)
        else:
            turn.say("utter_retry_confirm", amount=turn.money(view.price_minor), card=turn.card)
            return pending("retry_confirm")
        return pending(None)


RETRY_REPLIES = {
    "in_progress": "utter_retry_in_progress",
    "rate_limited": "utter_retry_rate_limited",
    "card_expired": "utter_retry_card_expired",
    "already_paid": "utter_retry_not_needed",
    "not_past_due": "utter_retry_not_needed",
    "unknown": "utter_retry_unknown",
}


def retry_now(turn: Turn) -> None:
    """Charges through the configured gateway; the service runs its own transactions."""
    view = turn.view
    outcome = retry_payment(
        engine(),
        configured_gateway(),
        view.email,
        turn.conversation_id,
        turn.language,
        turn.now,
        product().bot_retries_per_day,
    )
    if outcome.status in ("succeeded", "already_paid") and outcome.renewed_until:  # paid now, or moments ago
        turn.say("utter_retry_succeeded", date=turn.day(outcome.renewed_until), email=view.email)
    elif outcome.status == "declined":
        turn.say("utter_retry_declined")
        turn.say(f"utter_reason_{outcome.failure_reason}", card=turn.card)
    elif outcome.status == "not_admin":
        turn.say("utter_only_admin_can", portal=view.portal, admin_email=view.admin_email)
    else:
        turn.say(RETRY_REPLIES.get(outcome.status, "utter_retry_unknown"), card=turn.card)


class ActionAnswerPending(AccountAction):
    """The customer's yes or no to the retention offer or to a confirmation question."""

    intent = "answer_pending"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if tracker.get_slot("pending_change") not in PENDING_STEPS:  # nothing was asked: a plain yes or no
            dispatcher.utter_message(response="utter_anything_else")
            return pending(None)
        return await super().act(dispatcher, tracker, domain)

    def anonymous(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
        dispatcher.utter_message(response="utter_sign_in_for_account")
        return pending(None)

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        step = tracker.get_slot("pending_change")
        agreed = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        view = turn.view
        if step == "cancel_offer" and agreed:
            accept_retention_offer(turn.session, view.email, turn.conversation_id, turn.now)
            turn.say("utter_offer_accepted", **_offer_params())
            return pending(None)
        if step == "cancel_offer":
            turn.say("utter_confirm_cancel", plan=view.plan_name, portal=view.portal, date=turn.day(turn.change_date))
            return pending("cancel_confirm")
        if step == "retry_confirm" and agreed:
            turn.after_commit = retry_now
            return pending(None)
        if step == "reactivate_confirm" and agreed:
            keep_now(turn)
            return pending(None)
        if step == "email_resend_confirm":
            if agreed:
                from actions.emails import resend_now  # here: actions/emails.py imports this module

                resend_now(turn, tracker.get_slot("email_to_resend"))
            else:
                turn.say("utter_anything_else")
            return [*pending(None), SlotSet("email_to_resend", None)]
        if step in ("cancel_confirm", "downgrade_confirm") and agreed:
            kind = CANCEL if step == "cancel_confirm" else DOWNGRADE
            outcome = schedule_end(turn.session, view.email, kind, turn.conversation_id, turn.language, turn.now)
            if outcome.status == "done":
                turn.say(
                    f"utter_{kind}_done",
                    plan=view.plan_name,
                    portal=view.portal,
                    date=turn.day(outcome.effective),
                    email=view.email,
                )
            elif outcome.status == "not_admin":
                turn.say("utter_only_admin_can", portal=view.portal, admin_email=outcome.admin_email)
            else:
                turn.say("utter_already_canceled", plan=view.plan_name, date=turn.day(outcome.effective))
            return pending(None)
        turn.say("utter_change_kept")
        return pending(None)
