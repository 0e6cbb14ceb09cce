"""Chatwoot's real webhook payloads (tests/fixtures/chatwoot, from Chatwoot v4.15.1's source) and the generic
inbound API read into what the bot does: an agent's reply, resolved, handed back, or nothing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from support.helpdesk.inbound import (
    IGNORED,
    REPLY,
    chatwoot_signature_matches,
    from_chatwoot,
    from_generic,
    signature_matches,
    token_matches,
)
from tests.helpers.helpdesk_standin import chatwoot


def test_an_agents_public_reply_is_a_reply_with_its_conversation_and_display_name() -> None:
    event = from_chatwoot(chatwoot("message_created_outgoing"))
    assert (event.kind, event.event_id, event.helpdesk_conversation, event.reference) == (
        REPLY,
        "9001",
        "41",
        "T-ABC123",
    )
    assert event.agent == "Julie Bernard" and event.text.startswith("Bonjour, je viens de vérifier")


@pytest.mark.parametrize(
    "name", ["message_created_private", "message_created_incoming", "conversation_status_changed_open"]
)
def test_notes_customer_messages_and_reopening_change_nothing(name: str) -> None:
    assert from_chatwoot(chatwoot(name)).kind == IGNORED


@pytest.mark.parametrize(
    "name, kind",
    [("conversation_status_changed_resolved", "resolved"), ("conversation_status_changed_pending", "handed_back")],
)
def test_resolving_or_setting_back_to_pending_gives_the_conversation_back(name: str, kind: str) -> None:
    event = from_chatwoot(chatwoot(name))
    assert (event.kind, event.helpdesk_conversation, event.reference) == (kind, "41", "T-ABC123")


@pytest.mark.parametrize(
    "payload",
    [{}, {"event": "contact_created"}, {"event": "message_created", "message_type": "outgoing", "content": None}],
)
def test_anything_else_from_chatwoot_is_ignored(payload: dict) -> None:
    assert from_chatwoot(payload).kind == IGNORED


def test_the_generic_api_reads_replies_and_resolutions() -> None:
    reply = from_generic(
        {
            "event": "message.created",
            "id": "e1",
            "ticket": {"reference": "HD-1"},
            "agent": "Zoé",
            "message": {"text": "Hi"},
        }
    )
    assert (reply.kind, reply.event_id, reply.reference, reply.agent, reply.text) == (REPLY, "e1", "HD-1", "Zoé", "Hi")
    assert from_generic({"event": "ticket.handed_back", "ticket": {"reference": "HD-1"}}).kind == "handed_back"
    assert from_generic({"event": "ticket.resolved", "ticket": {"reference": "HD-1"}}).agent == "Helpdesk"
    for bad in (
        {"event": "message.created", "ticket": {"reference": "HD-1"}, "message": {"text": "no id"}},
        {"event": "message.created", "id": "e2", "ticket": "HD-1", "message": "x"},
        {"event": "ticket.deleted"},
    ):
        assert from_generic(bad).kind == IGNORED


def test_secrets_and_signatures_are_checked_exactly() -> None:
    assert token_matches("s3cret", "s3cret") and not token_matches("s3cre", "s3cret")
    assert not token_matches("", "") and not token_matches(None, None)  # an unset secret never matches
    body = b'{"event":"ticket.resolved"}'
    good = "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert signature_matches(body, good, "k") and not signature_matches(body + b" ", good, "k")
    assert not signature_matches(body, good, "") and not signature_matches(body, None, "k")


def test_chatwoot_signature_follows_its_timestamped_scheme_and_refuses_replays() -> None:
    """The vector in tests/fixtures/chatwoot/README.md: HMAC-SHA256 of "<timestamp>.<compact body>"."""
    body = json.dumps(chatwoot("message_created_outgoing"), ensure_ascii=False, separators=(",", ":")).encode()
    secret, stamp = "4KxQn8VbT2mWz7RcJp5LdYsH", "1781775088"
    header = "sha256=6d932f5a9a37f7c0bf9965f8f0a27f16b51f2d50a16feb10e0d0627e1b512375"
    assert chatwoot_signature_matches(body, stamp, header, secret, now=1781775100)
    assert not chatwoot_signature_matches(body, stamp, header, secret, now=1781775088 + 301)  # too old
    assert not chatwoot_signature_matches(body, "1781775089", header, secret, now=1781775100)
    assert not chatwoot_signature_matches(body.replace(b"matin", b"soir"), stamp, header, secret, now=1781775100)
    assert not chatwoot_signature_matches(body, "soon", header, secret, now=1781775100)
