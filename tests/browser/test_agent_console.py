"""The agent console (web/agent/) in Debian's chromium, against the real assistant and its /agent/api.

Two real conversations ask for a person; an agent signs in (a wrong password first), finds both tickets in
the queue oldest first, opens the acme one, assigns it, replies (the reply reaches the conversation's
tracker) and resolves it. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import time
import uuid
from typing import List

import requests

from support.identity import issue_token
from tests.browser.conftest import ARTIFACTS

AGENT = ("agent", "agent-dev-password")
TIMEOUT_MS = 15_000


def _active_references(assistant) -> List[str]:
    response = requests.get(f"{assistant.url}/agent/api/tickets", auth=AGENT, timeout=30)
    assert response.status_code == 200, response.text
    return [ticket["reference"] for ticket in response.json()["tickets"]]


def _handoff(assistant, messages: List[str], sender: str, metadata: dict) -> str:
    """Has the conversation ask for a person; returns the reference of the one ticket it opened."""
    before = set(_active_references(assistant))
    for text in messages:
        assistant.say(text, sender=sender, metadata=metadata)
    new = [reference for reference in _active_references(assistant) if reference not in before]
    assert len(new) == 1, f"expected one new ticket after {messages!r}, got {new}"
    return new[0]


def _bot_texts(assistant, sender: str) -> List[str]:
    return [
        event.get("text")
        for event in assistant.tracker(assistant.rest(sender))["events"]
        if event.get("event") == "bot"
    ]


def test_agent_console_handles_a_handoff_end_to_end(browser, assistant) -> None:
    from playwright.sync_api import expect

    acme_sender, french_sender = f"console-acme-{uuid.uuid4().hex}", f"console-fr-{uuid.uuid4().hex}"
    acme = _handoff(
        assistant,
        ["why did my renewal fail?", "I want to talk to a human"],
        acme_sender,
        {"token": issue_token("admin@acme.example"), "locale": "en-US"},
    )
    french = _handoff(assistant, ["je voudrais parler à un conseiller"], french_sender, {"locale": "fr-FR"})
    reply = f"Hello, this is the support team: please update the expired card <i>{uuid.uuid4().hex[:6]}</i>"

    with browser.new_context(viewport={"width": 1280, "height": 900}) as context:
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        expect.set_options(timeout=TIMEOUT_MS)
        try:
            page.goto(f"{assistant.url}/agent/")
            notice = page.get_by_test_id("notice")

            # A wrong password: an error, still at the login.
            page.get_by_label("Name").fill(AGENT[0])
            page.get_by_label("Password").fill("not-the-password")
            page.get_by_test_id("login-submit").click()
            expect(notice).to_contain_text("Wrong name or password")
            expect(page.get_by_test_id("login-form")).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "agent-console-1-wrong-password.png"))

            # The right one: the queue, oldest first, with each ticket's language.
            page.get_by_label("Password").fill(AGENT[1])
            page.get_by_test_id("login-submit").click()
            expect(page.get_by_test_id("login-form")).to_be_hidden()
            expect(page.get_by_test_id("agent-name")).to_have_text(AGENT[0])
            acme_row = page.locator(f'[data-testid="queue-item"][data-reference="{acme}"]')
            french_row = page.locator(f'[data-testid="queue-item"][data-reference="{french}"]')
            expect(acme_row).to_be_visible()
            expect(french_row).to_be_visible()
            order = page.locator('[data-testid="queue-item"]').evaluate_all(
                "rows => rows.map(row => row.dataset.reference)"
            )
            assert order.index(acme) < order.index(french), order
            expect(acme_row.get_by_test_id("ticket-language")).to_have_text("EN")
            expect(french_row.get_by_test_id("ticket-language")).to_have_text("FR")
            expect(acme_row.get_by_test_id("ticket-account")).not_to_have_text("anonymous")
            expect(french_row.get_by_test_id("ticket-account")).to_have_text("anonymous")
            page.screenshot(path=str(ARTIFACTS / "agent-console-2-queue.png"))

            # The acme ticket: the plan and the failure reason in the summary, the customer's message.
            acme_row.click()
            ticket = page.get_by_test_id("ticket")
            expect(ticket.get_by_test_id("ticket-meta")).to_contain_text(acme)
            expect(acme_row).to_have_attribute("aria-current", "true")
            expect(page.get_by_test_id("ticket-facts")).to_contain_text("Professional")
            summary = (
                page.get_by_test_id("ticket-headline").inner_text()
                + "\n"
                + page.get_by_test_id("ticket-facts").inner_text()
            )
            assert "expir" in summary.lower(), (
                f"the summary does not give the failure reason (card expired):\n{summary}"
            )
            transcript = page.get_by_test_id("transcript")
            expect(transcript.locator('[data-author="customer"]', has_text="I want to talk to a human")).to_have_count(
                1
            )
            page.screenshot(path=str(ARTIFACTS / "agent-console-3-ticket.png"), full_page=True)

            # Assign it to me, reply with Ctrl+Enter: the reply, shown as plain text, in the transcript.
            page.get_by_test_id("assign").click()
            expect(ticket.get_by_test_id("ticket-meta")).to_contain_text("assigned")
            expect(page.get_by_test_id("assign")).to_be_disabled()
            expect(acme_row.get_by_test_id("ticket-status")).to_have_text("assigned")
            page.get_by_label("Reply to the customer").fill(reply)
            page.get_by_label("Reply to the customer").press("Control+Enter")
            expect(transcript.locator('[data-author="agent"]').filter(has_text=reply)).to_have_count(1)
            expect(transcript.locator("i")).to_have_count(0)  # customer and agent text is never parsed as HTML
            expect(page.get_by_label("Reply to the customer")).to_have_value("")
            page.screenshot(path=str(ARTIFACTS / "agent-console-4-replied.png"), full_page=True)

            # Resolve it: it leaves the queue; the French one stays.
            page.get_by_test_id("resolve").click()
            expect(ticket.get_by_test_id("ticket-meta")).to_contain_text("resolved")
            expect(acme_row).to_have_count(0)
            expect(french_row).to_be_visible()
            expect(page.get_by_test_id("reply-send")).to_be_disabled()
            page.screenshot(path=str(ARTIFACTS / "agent-console-5-resolved.png"), full_page=True)

            # Credentials that stop working (401) send the agent back to the login.
            page.evaluate("""() => sessionStorage.setItem('agentConsole.credentials',
                JSON.stringify({auth: 'Basic ' + btoa('agent:revoked'), name: 'agent'}))""")
            page.reload()
            expect(page.get_by_test_id("login-form")).to_be_visible()
            expect(notice).to_contain_text("sign in again")
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "agent-console-failure.png"), full_page=True)
            raise

    # The agent's reply reached the customer's conversation, and the ticket is resolved on the server.
    deadline = time.monotonic() + 15
    while reply not in _bot_texts(assistant, acme_sender) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert reply in _bot_texts(assistant, acme_sender), _bot_texts(assistant, acme_sender)
    response = requests.get(f"{assistant.url}/agent/api/tickets/{acme}", auth=AGENT, timeout=30)
    assert response.status_code == 200 and response.json()["ticket"]["status"] == "resolved", response.text
    assert acme not in _active_references(assistant) and french in _active_references(assistant)
