"""How the outbox reaches a helpdesk: a signed generic JSON webhook, or Chatwoot's application API.

Modes (HELPDESK_MODE, else `helpdesk_mode` in product.yml): off, generic (payload documented in
the README) or chatwoot (conversations and messages through Chatwoot's API). The mode and its
addresses are chosen in support/adapters.py.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Protocol

import requests

HTTP_TIMEOUT = (3.05, 10)


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
        return _check(
            self.session.post(f"{self.base}{path}", json=body, headers={"Idempotency-Key": key}, timeout=HTTP_TIMEOUT)
        )

    def _get(self, path: str, params: Dict[str, Any]) -> Dict[str, Any]:
        return _check(self.session.get(f"{self.base}{path}", params=params, timeout=HTTP_TIMEOUT))

    def deliver(self, job: Job) -> None:
        if job.kind == "message.created":
            conversation = job.context.get("conversation_id")
            if not conversation:
                raise DeliveryError("the ticket's conversation is not in the helpdesk yet")
            message = job.payload["message"]
            self._post(
                f"/conversations/{conversation}/messages",
                {"content": message["text"], "message_type": "incoming", "private": False},
                job.key,
            )
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
            conversation = self._once(
                job,
                "conversation_id",
                lambda: self._post(
                    "/conversations",
                    {
                        "source_id": contact["source_id"],
                        "inbox_id": self.inbox_id,
                        "contact_id": contact["id"],
                        "status": "pending",
                        "custom_attributes": {
                            "reference": ticket["reference"],
                            "reason": ticket["reason"],
                            "language": ticket["language"],
                        },
                    },
                    f"{job.key}-conversation",
                )["id"],
            )
        else:
            conversation = job.context["conversation_id"]
            job.progress.setdefault("conversation_id", conversation)
        self._once(
            job,
            "note",
            lambda: self._post(
                f"/conversations/{conversation}/messages",
                {"content": note_text(job.payload), "message_type": "outgoing", "private": True},
                f"{job.key}-note",
            ).get("id", True),
        )
        self._once(
            job,
            "open",
            lambda: self._post(f"/conversations/{conversation}/toggle_status", {"status": "open"}, f"{job.key}-open")
            or True,
        )

    def _contact(self, ticket: Dict[str, Any], key: str) -> Dict[str, Any]:
        body: Dict[str, Any] = {
            "inbox_id": self.inbox_id,
            "name": ticket["user"] or f"Visitor {ticket['reference']}",
            "identifier": ticket["user"] or ticket["conversation_id"],
        }
        if ticket["user"]:
            body["email"] = ticket["user"]
        response = self.session.post(
            f"{self.base}/contacts", json=body, headers={"Idempotency-Key": f"{key}-contact"}, timeout=HTTP_TIMEOUT
        )
        if response.status_code == 422:  # the customer is already a contact (an earlier ticket): reuse it
            return self._existing_contact(body["identifier"], key)
        payload = _check(response).get("payload", {})
        return {"id": payload["contact"]["id"], "source_id": payload["contact_inbox"]["source_id"]}

    def _existing_contact(self, identifier: str, key: str) -> Dict[str, Any]:
        found = self._get("/contacts/search", {"q": identifier}).get("payload") or []
        contact = next((c for c in found if identifier in (c.get("identifier"), c.get("email"))), None)
        if contact is None:
            raise DeliveryError(f"contact {identifier!r} refused as a duplicate but not found")
        inbox = self._post(
            f"/contacts/{contact['id']}/contact_inboxes", {"inbox_id": self.inbox_id}, f"{key}-contact-inbox"
        )
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
