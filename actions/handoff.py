"""Handing a conversation to a person: the ticket, its summary and its redacted transcript.

The ticket row is the record that the bot is paused: it is written (with its transcript and the
helpdesk outbox entry) in one transaction, and the action tells Rasa to pause only once that
transaction has committed. A conversation has one ticket: asking again returns it, asking after
it was resolved reopens it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from actions import models as m
from actions.accounts import AccountView, account_view
from actions.db import session_scope
from actions.formatting import day, money
from actions.helpdesk import enqueue, enqueue_message
from actions.queries import audit
from actions.redaction import redact

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: easy to read out on the phone
MAX_TEXT = 4000
BOT_TOLD_KEPT = 4

# The bot's last answer before the request tells why a person is needed (utter_action of the bot event).
REASON_AFTER_RESPONSE = {
    "utter_offer_human": "not_understood",
    "utter_refund_policy": "annual_refund",
    "utter_telephony_refund": "telephony_refund_review",
    "utter_telephony_balance": "telephony_refund_review",
    "utter_cancel_on_premise": "on_premise_licence",
    "utter_on_premise_account": "on_premise_licence",
    "utter_status_on_premise": "on_premise_licence",
    "utter_retry_rate_limited": "payment_retries_exhausted",
    "utter_retry_declined": "payment_retries_exhausted",
    "utter_renewal_failed_downgraded": "payment_retries_exhausted",
    "utter_cancellation_confirmation": "cancellation_dispute",
    "utter_cancel_done": "cancellation_dispute",
    "utter_downgrade_done": "cancellation_dispute",
    "utter_already_canceled": "cancellation_dispute",
}
NOT_A_TOPIC = {"human_handoff", "affirm", "deny", "greet", "goodbye", "thank", "out_of_scope", "nlu_fallback", None}


@dataclass(frozen=True)
class Line:
    """One message of the conversation, as the transcript keeps it."""

    key: str  # identifies the tracker event, so a message is never added twice
    at: datetime
    author: str  # customer, bot, agent, system
    text: str


@dataclass
class HandoffRequest:
    conversation_id: str
    channel: str
    language: str
    email: Optional[str]  # from the verified token only
    reason: str
    topic: Optional[str]
    lines: List[Line] = field(default_factory=list)


def event_time(event: Dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(event.get("timestamp") or 0), tz=timezone.utc)


def user_line(event: Dict[str, Any]) -> Line:
    return Line(f"user:{event.get('timestamp')}", event_time(event), "customer", clean(event.get("text") or ""))


def clean(text: str) -> str:
    return redact(text.strip())[:MAX_TEXT]


def transcript(events: Iterable[Dict[str, Any]]) -> List[Line]:
    """The customer's and the bot's messages of a tracker, redacted."""
    lines = []
    for event in events:
        if event.get("event") == "user" and (event.get("text") or "").strip():
            lines.append(user_line(event))
        elif event.get("event") == "bot" and (event.get("text") or "").strip():
            if (event.get("metadata") or {}).get("agent"):
                continue  # an agent's reply: the ticket has it already (tickets.record_reply)
            lines.append(Line(f"bot:{event.get('timestamp')}", event_time(event), "bot", clean(event["text"])))
    return lines


def infer_reason(events: List[Dict[str, Any]]) -> str:
    """Why a person is needed, from the bot's last answer before this request (its last response of that turn
    that says something about it: a turn can end with "anything else?")."""
    seen_answer = False
    for event in reversed(events):
        if event.get("event") == "user" and seen_answer:
            break
        if event.get("event") == "bot":
            seen_answer = True
            response = (event.get("metadata") or {}).get("utter_action")
            if response in REASON_AFTER_RESPONSE:
                return REASON_AFTER_RESPONSE[response]
    return "customer_request"


def infer_topic(events: List[Dict[str, Any]]) -> Optional[str]:
    """The last subject the customer asked about (an intent name), if any."""
    for event in reversed(events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent not in NOT_A_TOPIC:
                return intent
    return None


def _new_reference(session: Session) -> str:
    while True:
        reference = "HD-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if session.execute(select(m.Ticket.id).where(m.Ticket.reference == reference)).first() is None:
            return reference


def summary(view: Optional[AccountView], request: HandoffRequest, now: datetime) -> Dict[str, Any]:
    """What an agent needs in ten seconds: who, which subject, the account's state, what the bot said."""
    facts: List[Dict[str, str]] = [{"label": "Reason", "value": request.reason.replace("_", " ")},
                                   {"label": "Topic", "value": (request.topic or "none").replace("_", " ")},
                                   {"label": "Language", "value": request.language.upper()},
                                   {"label": "Channel", "value": request.channel}]
    if view is None:
        headline = f"Anonymous visitor ({request.channel}), {(request.topic or 'no topic').replace('_', ' ')}"
        facts.append({"label": "Customer", "value": "not signed in"})
    else:
        facts += account_facts(view, now)
        state = view.status.replace("_", " ")
        headline = (f"{view.email} ({view.role}, {view.portal}): {(request.topic or request.reason).replace('_', ' ')}"
                    f"; {view.plan_name} {view.billing_cycle}, {state}")
        if view.last_failure_reason:
            headline += f", last failure {view.last_failure_reason.replace('_', ' ')}"
        if view.status == "past_due" and view.grace_end:
            headline += f", grace period ends {view.grace_end.date().isoformat()}"
    bot_told = [line.text for line in request.lines if line.author == "bot"][-BOT_TOLD_KEPT:]
    return {"headline": headline, "facts": facts, "bot_told": bot_told}


def account_facts(view: AccountView, now: datetime) -> List[Dict[str, str]]:
    facts = [{"label": "Customer", "value": f"{view.email} ({view.role})"},
             {"label": "Account", "value": f"{view.portal} ({view.edition.replace('_', '-')})"},
             {"label": "Plan", "value": f"{view.plan_name} ({view.billing_cycle}), "
                                        f"{money(view.price_minor, view.currency, 'en')}"},
             {"label": "Status", "value": view.status.replace("_", " ")
              + (", cancels at period end" if view.cancel_at_period_end else "")}]
    if view.period_end:
        facts.append({"label": "Period ends", "value": day(view.period_end, "en")})
    if view.last_failure_reason:
        facts.append({"label": "Last failure", "value": f"{view.last_failure_reason.replace('_', ' ')} "
                                                        f"(failed attempts: {view.failed_attempts})"})
    if view.status == "past_due" and view.grace_end:
        facts.append({"label": "Grace period ends",
                      "value": f"{day(view.grace_end, 'en')} ({view.grace_days_left(now)} days left)"})
    if view.card:
        card = view.card
        expired = " - EXPIRED" if card.expired(now) else ""
        facts.append({"label": "Card", "value": f"{card.brand.title()} ending {card.last4}, "
                                                f"{card.exp_month:02d}/{card.exp_year}{expired}"})
    if view.telephony_minor:
        facts.append({"label": "Telephony credit", "value": money(view.telephony_minor, view.telephony_currency, "en")})
    if view.account_manager:
        facts.append({"label": "Account manager", "value": view.account_manager})
    return facts


def open_ticket(session: Session, request: HandoffRequest, now: datetime) -> Tuple[m.Ticket, bool]:
    """The conversation's ticket, created or reopened; False when it was already open (same ticket)."""
    ticket = session.execute(
        select(m.Ticket).where(m.Ticket.conversation_id == request.conversation_id).with_for_update()
    ).scalar_one_or_none()
    if ticket is not None and ticket.status != "resolved":
        add_lines(session, ticket, request.lines, now)
        return ticket, False
    view = account_view(session, request.email) if request.email else None
    if ticket is None:
        ticket = m.Ticket(reference=_new_reference(session), conversation_id=request.conversation_id,
                          created_at=now, status="open")
        session.add(ticket)
        kind = "ticket.created"
    else:
        kind = "ticket.reopened"
    ticket.channel, ticket.language, ticket.reason, ticket.topic = (
        request.channel, request.language, request.reason, request.topic)
    ticket.account_id = view.account_id if view else None
    ticket.user_email = view.email if view else None
    ticket.summary = summary(view, request, now)
    ticket.status, ticket.assigned_to, ticket.resolution, ticket.resolved_at = "open", None, None, None
    ticket.updated_at = now
    session.flush()
    add_lines(session, ticket, request.lines, now, deliver=False)
    enqueue(session, ticket, kind, now)
    if view:
        audit(session, view.email, view.account_id, "handoff_requested", request.conversation_id,
              {"reference": ticket.reference, "reason": request.reason}, now)
    return ticket, True


def request_handoff(engine: Engine, request: HandoffRequest, now: datetime) -> Tuple[str, bool]:
    """open_ticket in its own transaction: (reference, created). Two requests racing for the same
    conversation meet at its unique constraint; the loser finds the winner's ticket."""
    for attempt in range(2):
        try:
            with session_scope(engine) as session:
                ticket, created = open_ticket(session, request, now)
                return ticket.reference, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def add_lines(session: Session, ticket: m.Ticket, lines: Iterable[Line], now: datetime,
              deliver: bool = True) -> List[m.TicketMessage]:
    """Adds the lines the ticket does not have yet; new customer lines also go to the helpdesk."""
    keys = set(session.execute(
        select(m.TicketMessage.source_key).where(m.TicketMessage.ticket_id == ticket.id)).scalars())
    added = []
    for line in lines:
        if line.key in keys:
            continue
        keys.add(line.key)
        message = m.TicketMessage(ticket_id=ticket.id, at=line.at, author=line.author, text=line.text,
                                  source_key=line.key)
        session.add(message)
        added.append(message)
    session.flush()
    if deliver:
        for message in added:
            if message.author == "customer":
                enqueue_message(session, ticket, message, now)
    if added:
        ticket.updated_at = now
    return added


def active_ticket(session: Session, conversation_id: str) -> Optional[m.Ticket]:
    """The conversation's ticket while a person owns the conversation."""
    return session.execute(
        select(m.Ticket).where(m.Ticket.conversation_id == conversation_id, m.Ticket.status != "resolved")
    ).scalar_one_or_none()


def add_customer_message(session: Session, conversation_id: str, event: Dict[str, Any], now: datetime) -> bool:
    """A message the customer sent while the bot is paused: added to the ticket (once)."""
    if event.get("event") != "user" or not (event.get("text") or "").strip():
        return False
    ticket = active_ticket(session, conversation_id)
    return bool(ticket and add_lines(session, ticket, [user_line(event)], now))
