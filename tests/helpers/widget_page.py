"""The chat widget on the demo page (/chat/), driven in a real browser: open it, ask, read what it shows."""

from __future__ import annotations

import time
from typing import List, Tuple

ANSWER_TIMEOUT = 60_000  # ms: the first answers of a fresh server can be slow


def open_portal(browser, url: str, email: str | None, locale: str = "fr-FR", **context_options):
    """A fresh browser context on the demo portal, signed in as `email` (None: anonymous), chat opened."""
    from playwright.sync_api import expect

    context = browser.new_context(locale=locale, **context_options)
    page = context.new_page()
    errors: List[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(f"{url}/chat/")
    assert response is not None and response.ok, f"GET /chat/ answered {response and response.status}"
    page.get_by_test_id("demo-locale").select_option(locale)
    if email:
        page.get_by_test_id("demo-user").select_option(email)
    page.get_by_test_id("chat-launcher").click()
    expect(page.get_by_test_id("chat-panel")).to_be_visible()
    signed_in = "Connecté à votre compte" if locale.startswith("fr") else "Signed in to your account"
    anonymous = "Non connecté" if locale.startswith("fr") else "Not signed in"
    expect(page.get_by_test_id("chat-identity")).to_contain_text(
        signed_in if email else anonymous, timeout=ANSWER_TIMEOUT
    )
    wait_history(page)
    return context, page, errors


def wait_history(page) -> None:
    from playwright.sync_api import expect

    expect(page.locator('[data-testid="chat-log"][data-loaded="true"]')).to_have_count(1, timeout=ANSWER_TIMEOUT)


def transcript(page) -> List[Tuple[str, str]]:
    """(kind, text) of every message shown, kind in user / bot / agent."""
    items = page.locator('[data-testid^="message-"]:not([data-testid="message-text"])')
    return [
        (item.get_attribute("data-testid").removeprefix("message-"), item.get_by_test_id("message-text").inner_text())
        for item in items.all()
    ]


def settled_transcript(page, quiet_seconds: float = 2.0) -> List[Tuple[str, str]]:
    """The transcript once no new message has arrived for `quiet_seconds` (the bot may send several)."""
    previous, since = transcript(page), time.monotonic()
    deadline = since + ANSWER_TIMEOUT / 1000
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        current = transcript(page)
        if current != previous:
            previous, since = current, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return current
    return previous


def ask(page, text: str) -> None:
    from playwright.sync_api import expect

    bots = page.get_by_test_id("message-bot")
    before = bots.count()
    chat_input = page.get_by_test_id("chat-input")
    chat_input.fill(text)
    chat_input.press("Enter")
    expect(chat_input).to_have_value("")
    expect(page.get_by_test_id("message-user").last.get_by_test_id("message-text")).to_have_text(text)
    expect(bots).not_to_have_count(before, timeout=ANSWER_TIMEOUT)
