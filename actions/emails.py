"""What became of the account's emails, and an admin's "send it again": thin actions over support/emails/status.py."""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.account import AccountAction, Turn, pending
from support import i18n
from support.emails.status import FAILED, QUEUED, SENT, EmailLine, recent_emails, resend
from support.handoff.hours import describe_moment
from support.vocabulary import Edition, SubscriptionStatus

EMAIL_NAME_KEYS = {  # every template of support/emails/templates
    "cancel_confirmation": "email.name.cancel_confirmation",
    "downgrade_confirmation": "email.name.downgrade_confirmation",
    "downgraded_to_free": "email.name.downgraded_to_free",
    "invoice_copies": "email.name.invoice_copies",
    "payment_receipt": "email.name.payment_receipt",
    "reactivation_confirmation": "email.name.reactivation_confirmation",
}
EMAIL_LINE_KEYS = {SENT: "email.line.sent", QUEUED: "email.line.queued", FAILED: "email.line.failed"}


def email_name(language: str, template: str) -> str:
    return i18n.text(language, EMAIL_NAME_KEYS[template])


def email_line(turn: Turn, email: EmailLine) -> str:
    return i18n.text(
        turn.language,
        EMAIL_LINE_KEYS[email.state],
        name=email_name(turn.language, email.template),
        to=email.to,
        **describe_moment(email.at, turn.language),
    )


def tell_emails(turn: Turn) -> List[EventType]:
    """The account's latest emails for an admin, and the offer to send the newest again (unless it is
    still waiting to go out); members are told who receives them."""
    view = turn.view
    if view.edition == Edition.ON_PREMISE or not view.is_admin:
        turn.say("utter_email_status_member", portal=view.portal, admin_email=view.admin_email)
        return pending(None)
    emails = recent_emails(turn.session, view.account_id)
    if not emails:
        turn.say("utter_email_status_none", portal=view.portal)
        return pending(None)
    turn.say("utter_email_status_list", portal=view.portal, emails="\n".join(email_line(turn, e) for e in emails))
    newest = emails[0]
    if newest.state == QUEUED:
        return pending(None)
    if newest.state == SENT:
        turn.say("utter_email_spam_tip", to=newest.to)
    turn.say("utter_confirm_email_resend", name=email_name(turn.language, newest.template), to=newest.to)
    return [*pending("email_resend_confirm"), SlotSet("email_to_resend", newest.id)]


def resend_now(turn: Turn, email_id: Optional[int]) -> None:
    """The admin said yes: one more copy, unless one is already waiting."""
    view = turn.view
    if not view.is_admin or email_id is None:
        turn.say("utter_email_status_member", portal=view.portal, admin_email=view.admin_email)
        return
    outcome = resend(turn.session, int(email_id), view.account_id, view.email, turn.conversation_id, turn.now)
    if outcome.result == "not_found":
        turn.say("utter_email_status_none", portal=view.portal)
        return
    email = outcome.email
    name = email_name(turn.language, email.template) if email else ""
    to = email.to if email else view.email
    turn.say(
        "utter_email_resend_done" if outcome.result == "queued" else "utter_email_resend_waiting", name=name, to=to
    )


class ActionEmailStatus(AccountAction):
    """ "Did you send me the receipt?": the outbox's answer (sent when and to whom, queued, failed)."""

    intent = "email_status"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        return tell_emails(turn)


class ActionCancellationConfirmation(AccountAction):
    """ "Did my cancellation go through? No email": the subscription's state, then its emails."""

    intent = "cancellation_confirmation"

    def answer(self, turn: Turn, tracker: Tracker) -> List[EventType]:
        view = turn.view
        common = {"portal": view.portal, "plan": view.plan_name}
        if view.edition == Edition.ON_PREMISE:
            turn.say("utter_on_premise_account", portal=view.portal, manager=view.account_manager)
            return pending(None)
        if view.status in (SubscriptionStatus.FREE, SubscriptionStatus.CANCELED):
            turn.say("utter_cancellation_state_free", **common)
        elif view.cancel_at_period_end:
            turn.say("utter_cancellation_state_scheduled", date=turn.day(turn.change_date), **common)
        else:
            turn.say("utter_cancellation_state_none", date=turn.day(view.period_end), **common)
        return tell_emails(turn)
