"""The durable outbox towards an external helpdesk: new tickets and later customer messages.

Rows are written in the transaction that creates the ticket or the message, so nothing is lost;
a worker (the Rasa server runs one, `python -m actions.helpdesk` runs one pass) delivers them in
order per ticket, retrying with exponential backoff for as long as the helpdesk is down. Every
request carries the row's idempotency key, so a retry after a lost answer duplicates nothing.

Modes (HELPDESK_MODE, else `helpdesk_mode` in product.yml): off, generic (a signed JSON webhook,
payload documented in the README) or chatwoot (conversations and messages through Chatwoot's API).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, List, Optional, Protocol

import requests
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from actions import models as m
from actions.db import session_scope
from actions.product import product

logger = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = float(os.environ.get("HELPDESK_RETRY_SECONDS", "5"))
MAX_RETRY_SECONDS = 600  # a helpdesk down for hours is retried every ten minutes, forever
LEASE_SECONDS = 60  # a claimed row is not picked again by another worker meanwhile
HTTP_TIMEOUT = (3.05, 10)


def helpdesk_mode() -> str:
    return (os.environ.get("HELPDESK_MODE") or str(product().get("helpdesk_mode") or "off")).lower()


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s ... capped at ten minutes, with jitter so that workers do not retry in step."""
    seconds = min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))


def ticket_fields(session: Session, ticket: m.Ticket) -> Dict[str, Any]:
    """What both the helpdesk and the agent console show of a ticket."""
    account = session.get(m.Account, ticket.account_id) if ticket.account_id else None
    return {"reference": ticket.reference, "channel": ticket.channel, "language": ticket.language,
            "reason": ticket.reason, "topic": ticket.topic, "account": account.portal if account else None,
            "user": ticket.user_email, "created_at": m.utc(ticket.created_at).isoformat()}


def ticket_data(session: Session, ticket: m.Ticket) -> Dict[str, Any]:
    return {**ticket_fields(session, ticket), "conversation_id": ticket.conversation_id, "summary": ticket.summary}


def message_data(message: m.TicketMessage) -> Dict[str, Any]:
    return {"at": m.utc(message.at).isoformat(), "author": message.author, "agent": message.agent,
            "text": message.text}


def _add(session: Session, ticket: m.Ticket, kind: str, key: str, payload: Dict[str, Any], now: datetime) -> None:
    if helpdesk_mode() == "off":
        return
    payload = {"event": kind, "idempotency_key": key, "occurred_at": now.isoformat(), **payload}
    session.add(m.HelpdeskDelivery(ticket_id=ticket.id, kind=kind, payload=payload, idempotency_key=key,
                                   created_at=now, attempts=0, next_attempt_at=now, progress={}))


def enqueue(session: Session, ticket: m.Ticket, kind: str, now: datetime) -> None:
    """A new (or reopened) ticket with its transcript so far."""
    count = session.execute(select(m.HelpdeskDelivery.id).where(
        m.HelpdeskDelivery.ticket_id == ticket.id, m.HelpdeskDelivery.kind == kind)).all()
    key = f"{ticket.reference}-{kind.split('.')[1]}-{len(count) + 1}"
    transcript = [message_data(message) for message in session.execute(
        select(m.TicketMessage).where(m.TicketMessage.ticket_id == ticket.id).order_by(m.TicketMessage.id)).scalars()]
    _add(session, ticket, kind, key, {"ticket": ticket_data(session, ticket), "transcript": transcript}, now)


def enqueue_message(session: Session, ticket: m.Ticket, message: m.TicketMessage, now: datetime) -> None:
    """A customer message written after the ticket was created."""
    _add(session, ticket, "message.created", f"{ticket.reference}-message-{message.id}",
         {"ticket": {"reference": ticket.reference}, "message": message_data(message)}, now)


@dataclass
class Job:
    """One delivery as a transport sees it; `progress` records finished steps across attempts."""

    id: int
    kind: str
    key: str
    payload: Dict[str, Any]
    progress: Dict[str, Any]
    context: Dict[str, Any] = field(default_factory=dict)  # progress of the ticket's earlier deliveries


class Transport(Protocol):
    def deliver(self, job: Job) -> None:
        """Delivers or raises; may update job.progress as steps succeed."""


class DeliveryError(Exception):
    pass


def _check(response: requests.Response) -> Dict[str, Any]:
    if response.status_code == 409:  # the helpdesk already has this key: delivered before
        return {}
    if not 200 <= response.status_code < 300:
        raise DeliveryError(f"HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json() if response.content else {}
    except ValueError:
        return {}


class GenericWebhook:
    """POSTs the payload as JSON, signed with HMAC-SHA256 when HELPDESK_SECRET is set."""

    def __init__(self, url: str, secret: str = "", token: str = "") -> None:
        self.url, self.secret, self.token = url, secret, token

    def deliver(self, job: Job) -> None:
        body = json.dumps(job.payload, ensure_ascii=False, sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": job.key, "X-Helpdesk-Event": job.kind}
        if self.secret:
            digest = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            headers["X-Helpdesk-Signature-256"] = f"sha256={digest}"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        _check(requests.post(self.url, data=body, headers=headers, timeout=HTTP_TIMEOUT))


class Chatwoot:
    """Chatwoot's application API: a contact, a conversation (pending, then open = handed over), messages."""

    def __init__(self, url: str, token: str, account_id: str, inbox_id: str) -> None:
        self.base = f"{url.rstrip('/')}/api/v1/accounts/{account_id}"
        self.inbox_id = int(inbox_id)
        self.session = requests.Session()
        self.session.headers.update({"api_access_token": token})

    def _post(self, path: str, body: Dict[str, Any], key: str) -> Dict[str, Any]:
        return _check(self.session.post(f"{self.base}{path}", json=body, headers={"Idempotency-Key": key},
                                        timeout=HTTP_TIMEOUT))

    def _get(self, path: str, params: Dict[str, Any]) -> Dict[str, Any]:
        return _check(self.session.get(f"{self.base}{path}", params=params, timeout=HTTP_TIMEOUT))

    def deliver(self, job: Job) -> None:
        if job.kind == "message.created":
            conversation = job.context.get("conversation_id")
            if not conversation:
                raise DeliveryError("the ticket's conversation is not in the helpdesk yet")
            message = job.payload["message"]
            self._post(f"/conversations/{conversation}/messages",
                       {"content": message["text"], "message_type": "incoming", "private": False}, job.key)
            return
        self._open_conversation(job)

    @staticmethod
    def _once(job: Job, name: str, run: Callable[[], Any]) -> Any:
        """Runs a step unless an earlier attempt finished it; its result is remembered in job.progress."""
        if name not in job.progress:
            job.progress[name] = run()
        return job.progress[name]

    def _open_conversation(self, job: Job) -> None:
        ticket = job.payload["ticket"]
        if job.kind == "ticket.created" or not job.context.get("conversation_id"):
            contact = self._once(job, "contact", lambda: self._contact(ticket, job.key))
            conversation = self._once(job, "conversation_id", lambda: self._post("/conversations", {
                "source_id": contact["source_id"], "inbox_id": self.inbox_id, "contact_id": contact["id"],
                "status": "pending",
                "custom_attributes": {"reference": ticket["reference"], "reason": ticket["reason"],
                                      "language": ticket["language"]}}, f"{job.key}-conversation")["id"])
        else:
            conversation = job.context["conversation_id"]
            job.progress.setdefault("conversation_id", conversation)
        self._once(job, "note", lambda: self._post(f"/conversations/{conversation}/messages", {
            "content": note_text(job.payload), "message_type": "outgoing", "private": True},
            f"{job.key}-note").get("id", True))
        self._once(job, "open", lambda: self._post(f"/conversations/{conversation}/toggle_status",
                                                   {"status": "open"}, f"{job.key}-open") or True)

    def _contact(self, ticket: Dict[str, Any], key: str) -> Dict[str, Any]:
        body: Dict[str, Any] = {"inbox_id": self.inbox_id, "name": ticket["user"] or f"Visitor {ticket['reference']}",
                                "identifier": ticket["user"] or ticket["conversation_id"]}
        if ticket["user"]:
            body["email"] = ticket["user"]
        response = self.session.post(f"{self.base}/contacts", json=body, headers={"Idempotency-Key": f"{key}-contact"},
                                     timeout=HTTP_TIMEOUT)
        if response.status_code == 422:  # the customer is already a contact (an earlier ticket): reuse it
            return self._existing_contact(body["identifier"], key)
        payload = _check(response).get("payload", {})
        return {"id": payload["contact"]["id"], "source_id": payload["contact_inbox"]["source_id"]}

    def _existing_contact(self, identifier: str, key: str) -> Dict[str, Any]:
        found = self._get("/contacts/search", {"q": identifier}).get("payload") or []
        contact = next((c for c in found if identifier in (c.get("identifier"), c.get("email"))), None)
        if contact is None:
            raise DeliveryError(f"contact {identifier!r} refused as a duplicate but not found")
        inbox = self._post(f"/contacts/{contact['id']}/contact_inboxes", {"inbox_id": self.inbox_id},
                           f"{key}-contact-inbox")
        return {"id": contact["id"], "source_id": inbox["source_id"]}


def note_text(payload: Dict[str, Any]) -> str:
    """The private note an agent reads first in the helpdesk: summary, then the transcript."""
    ticket = payload["ticket"]
    summary = ticket.get("summary") or {}
    lines = [f"{ticket['reference']}: {summary.get('headline', '')}"]
    lines += [f"{fact['label']}: {fact['value']}" for fact in summary.get("facts", [])]
    lines.append("")
    lines += [f"[{item['at'][11:16]}] {item['author']}: {item['text']}" for item in payload.get("transcript", [])]
    return "\n".join(lines)


def configured_transport() -> Optional[Transport]:
    mode = helpdesk_mode()
    url = os.environ.get("HELPDESK_URL", "")
    if mode == "off" or not url:
        return None
    if mode == "chatwoot":
        return Chatwoot(url, os.environ.get("HELPDESK_API_TOKEN", ""), os.environ.get("HELPDESK_ACCOUNT_ID", "1"),
                        os.environ.get("HELPDESK_INBOX_ID", "1"))
    return GenericWebhook(url, os.environ.get("HELPDESK_SECRET", ""), os.environ.get("HELPDESK_API_TOKEN", ""))


def _claim(engine: Engine, now: datetime, limit: int) -> List[Job]:
    """The oldest undelivered row of each ticket, if it is due, leased to this worker."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(m.HelpdeskDelivery).where(m.HelpdeskDelivery.delivered_at.is_(None))
            .order_by(m.HelpdeskDelivery.id).limit(500).with_for_update()  # a second worker waits, then sees leases
        ).scalars().all()
        jobs, seen = [], set()
        for row in rows:
            if row.ticket_id in seen:
                continue  # in order: a ticket's later rows wait for its earlier ones
            seen.add(row.ticket_id)
            if m.utc(row.next_attempt_at) > now or len(jobs) >= limit:
                continue
            row.attempts += 1
            row.next_attempt_at = now + timedelta(seconds=LEASE_SECONDS)
            jobs.append(Job(row.id, row.kind, row.idempotency_key, row.payload, dict(row.progress or {}),
                            _context(session, row.ticket_id)))
        return jobs


def _context(session: Session, ticket_id: int) -> Dict[str, Any]:
    context: Dict[str, Any] = {}
    for progress in session.execute(select(m.HelpdeskDelivery.progress).where(
            m.HelpdeskDelivery.ticket_id == ticket_id, m.HelpdeskDelivery.delivered_at.is_not(None))
            .order_by(m.HelpdeskDelivery.id)).scalars():
        context.update(progress or {})
    return context


def _finish(engine: Engine, job: Job, now: datetime, error: Optional[str]) -> None:
    with session_scope(engine) as session:
        row = session.get(m.HelpdeskDelivery, job.id)
        row.progress = job.progress
        if error is None:
            row.delivered_at, row.last_error = now, None
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), error[:500]


@dataclass
class PassReport:
    delivered: int = 0
    failed: int = 0


def deliver_due(engine: Engine, transport: Transport, now: datetime, limit: int = 50) -> PassReport:
    """One pass of the worker: every due row is tried once."""
    report = PassReport()
    for job in _claim(engine, now, limit):
        try:
            transport.deliver(job)
        except (requests.RequestException, DeliveryError, KeyError, TypeError, ValueError) as error:
            logger.warning("helpdesk delivery %s failed: %s", job.key, error)
            _finish(engine, job, now, f"{type(error).__name__}: {error}")
            report.failed += 1
        else:
            _finish(engine, job, now, None)
            report.delivered += 1
    return report


def pending_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return len(session.execute(select(m.HelpdeskDelivery.id).where(
            m.HelpdeskDelivery.delivered_at.is_(None))).all())


if __name__ == "__main__":
    from actions.accounts import now_utc
    from actions.db import engine as default_engine

    logging.basicConfig(level=logging.INFO)
    chosen = configured_transport()
    if chosen is None:
        raise SystemExit("HELPDESK_MODE is off or HELPDESK_URL is not set: nothing to deliver to.")
    print(deliver_due(default_engine(), chosen, now_utc()))
