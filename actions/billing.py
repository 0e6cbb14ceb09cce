"""Invoices, plan changes and payment methods: thin Rasa actions over support/billing."""

from __future__ import annotations

from typing import Any, Dict, List

from babel.lists import format_list
from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.account import AccountAction, Turn, refused_to_non_admin
from actions.safety import SafeAction
from actions.tracker import conversation_language
from support import i18n
from support.billing.invoices import InvoiceLine, recent_invoices, send_copies, status_text
from support.billing.plans import PlanQuote, paid_plans, plan_named_in
from support.formatting import locale, number
from support.settings import product
from support.vocabulary import Cycle

PLAN_PRICE_KEYS = {Cycle.MONTHLY: "plan.price.monthly", Cycle.YEARLY: "plan.price.yearly"}
PAYMENT_METHOD_KEYS = {  # every value product.yml's payment_methods may hold (support/settings.py)
    "card": "payment_method.card",
    "sepa_debit": "payment_method.sepa_debit",
    "bank_transfer": "payment_method.bank_transfer",
    "paypal": "payment_method.paypal",
}


def invoice_line(turn: Turn, line: InvoiceLine) -> str:
    return i18n.text(
        turn.language,
        "invoice.line",
        issued=turn.day(line.issued),
        start=turn.day(line.period_start),
        end=turn.day(line.period_end),
        amount=turn.money(line.amount_minor, line.currency),
        status=status_text(turn.language, line.status),
    )


class ActionInvoiceRequest(AccountAction):
    """The recent invoices in the chat, and one email with their copies to the admin (once per set)."""

    intent = "invoice_request"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if refused_to_non_admin(turn, not_admin="utter_only_admin_billing"):
            return []
        invoices = recent_invoices(turn.session, view.account_id)
        if not invoices:
            turn.say("utter_invoices_none", portal=view.portal)
            return []
        lines = "\n".join(invoice_line(turn, line) for line in invoices)
        turn.say("utter_invoices_list", portal=view.portal, invoices=lines)
        sent = send_copies(
            turn.session,
            view.email,
            view.account_id,
            view.email,
            invoices,
            turn.conversation_id,
            turn.language,
            turn.now,
        )
        turn.say("utter_invoices_sent" if sent else "utter_invoices_already_sent", email=view.email)
        return []


def plan_price(turn: Turn, plan: PlanQuote, cycle: str) -> str:
    return i18n.text(turn.language, PLAN_PRICE_KEYS[Cycle(cycle)], price=turn.money(plan.price_minor, plan.currency))


class ActionChangePlan(AccountAction):
    """How to change plans, with the current plan and the target's price from the database."""

    intent = "change_plan"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        if refused_to_non_admin(turn, not_admin="utter_only_admin_billing"):
            return []
        cycle = view.billing_cycle
        plans = paid_plans(turn.session, cycle)
        current = {"portal": view.portal, "plan": view.plan_name}
        target = plan_named_in((tracker.latest_message or {}).get("text") or "", plans)
        if target is not None and target.code == view.plan_code:
            turn.say("utter_change_plan_same", **current)
        elif target is not None:
            turn.say(
                "utter_change_plan_target",
                target=target.name,
                target_price=plan_price(turn, target, cycle),
                target_users=number(target.max_users, turn.language),
                target_storage=number(target.storage_gb, turn.language),
                **current,
            )
        else:
            lines = "\n".join(
                i18n.text(
                    turn.language,
                    "plan.line",
                    name=plan.name,
                    price=plan_price(turn, plan, cycle),
                    users=number(plan.max_users, turn.language),
                    storage=number(plan.storage_gb, turn.language),
                )
                for plan in plans
            )
            turn.say("utter_change_plan_options", plans=lines, **current)
        return []


class ActionPaymentMethods(SafeAction):
    """What customers can pay with, from product.yml; a person for anything else."""

    def name(self) -> str:
        return "action_payment_methods"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        language = conversation_language(tracker)
        names = [i18n.text(language, PAYMENT_METHOD_KEYS[method]) for method in product().payment_methods]
        methods = format_list(names, style="standard", locale=locale(language))
        dispatcher.utter_message(response="utter_payment_methods", methods=methods)
        return []
