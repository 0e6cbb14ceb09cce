"""The chat widget in a real browser (Debian's Chromium driven by Playwright) against the running assistant.

The demo host page (/chat/) signs the widget in as a demo user; the conversation must show the customer's
real renewal failure, survive a reload, and never be shown to another account or to an anonymous visitor.
Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re

import pytest

from support.settings import ROOT
from tests.browser.conftest import ARTIFACTS
from tests.helpers.widget_page import ANSWER_TIMEOUT, ask, open_portal, settled_transcript, transcript, wait_history

SOCKET_IO_CLIENT = ROOT / "web/node_modules/socket.io-client/dist/socket.io.min.js"
QUESTION = "Pourquoi le renouvellement de mon abonnement a échoué ?"
FRENCH_DATE = re.compile(
    r"\b\d{1,2}(?:er)?\s+(?:janv|févr|mars|avr|mai|juin|juil|août|sept|oct|nov|déc)", re.IGNORECASE
)  # "3 décembre 2025", "1er mars", "3 déc. 2025"


@pytest.fixture(scope="module", autouse=True)
def widget_files() -> None:
    if not SOCKET_IO_CLIENT.exists():
        pytest.fail(f"{SOCKET_IO_CLIENT} is missing (the widget loads it): run `npm ci` in web/.", pytrace=False)


def test_signed_in_conversation_is_real_survives_a_reload_and_stays_private(browser, assistant) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_portal(
        browser, assistant.url, "admin@acme.example", viewport={"width": 1280, "height": 800}
    )
    try:
        expect(page.get_by_test_id("chat-input")).to_be_focused()
        ask(page, QUESTION)
        renewal = page.get_by_test_id("message-bot").filter(has_text="4242")
        expect(renewal.first).to_be_visible(timeout=ANSWER_TIMEOUT)
        answer = "\n".join(text for kind, text in settled_transcript(page) if kind == "bot")
        assert "expir" in answer.lower(), answer
        assert FRENCH_DATE.search(answer), f"no French date (grace period end) in: {answer}"
        page.screenshot(path=str(ARTIFACTS / "widget-acme-renewal.png"))

        # A quick reply: its title is shown as the user's message, its payload answered, older replies disabled.
        replies = page.locator('[data-testid="quick-reply"]:enabled')
        expect(replies.first).to_be_visible()
        update_card = page.locator('[data-testid="quick-reply"][data-payload="/update_payment_method"]:enabled')
        reply = update_card if update_card.count() else replies.first
        title, payload = reply.inner_text(), reply.get_attribute("data-payload")
        bots_before = page.get_by_test_id("message-bot").count()
        reply.click()
        expect(page.get_by_test_id("message-user").last.get_by_test_id("message-text")).to_have_text(title)
        expect(page.get_by_test_id("message-bot")).not_to_have_count(bots_before, timeout=ANSWER_TIMEOUT)
        expect(page.locator(f'[data-testid="quick-reply"][data-payload="{payload}"]').first).to_be_disabled()
        before_reload = settled_transcript(page)
        page.screenshot(path=str(ARTIFACTS / "widget-acme-quick-reply.png"))

        # A reload keeps the signed-in user (the demo page's choice) and the open panel, and shows the history.
        page.reload()
        expect(page.get_by_test_id("chat-panel")).to_be_visible()
        expect(page.get_by_test_id("chat-identity")).to_contain_text("Connecté à votre compte", timeout=ANSWER_TIMEOUT)
        wait_history(page)
        after_reload = transcript(page)
        assert after_reload == before_reload
        page.screenshot(path=str(ARTIFACTS / "widget-acme-after-reload.png"))

        # Escape closes the panel and gives the focus back to the launcher.
        page.get_by_test_id("chat-input").press("Escape")
        expect(page.get_by_test_id("chat-panel")).to_be_hidden()
        expect(page.get_by_test_id("chat-launcher")).to_be_focused()
        expect(page.get_by_test_id("chat-launcher")).to_have_attribute("aria-expanded", "false")
        assert not errors, errors
    finally:
        context.close()

    acme_texts = [text for _, text in before_reload]
    for email in ("admin@globex.example", None):
        context, page, errors = open_portal(browser, assistant.url, email, viewport={"width": 1280, "height": 800})
        try:
            shown = "\n".join(text for _, text in transcript(page))
            assert "4242" not in shown and QUESTION not in shown, shown
            assert not any(text in shown for text in acme_texts if len(text) > 20), shown
            name = email.split("@")[1].split(".")[0] if email else "anonymous"
            page.screenshot(path=str(ARTIFACTS / f"widget-{name}.png"))
            assert not errors, errors
        finally:
            context.close()


def test_phone_sized_screen_gets_a_full_screen_panel(browser, assistant) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_portal(
        browser,
        assistant.url,
        None,
        locale="en-US",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    )
    try:
        box = page.get_by_test_id("chat-panel").bounding_box()
        assert box is not None and box["x"] <= 1 and box["width"] >= 389, box
        assert box["height"] >= 843, box
        expect(page.get_by_test_id("chat-launcher")).to_be_hidden()  # the panel covers the screen
        expect(page.get_by_test_id("chat-send")).to_have_text("Send")

        # Blank messages are not sent; HTML is shown as text, never interpreted.
        chat_input = page.get_by_test_id("chat-input")
        chat_input.fill("   ")
        chat_input.press("Enter")
        expect(page.get_by_test_id("message-user")).to_have_count(0)
        html = '<img src="x" onerror="window.__xss = 1"> hello'
        ask(page, html)
        assert page.evaluate("window.__xss") is None
        assert (
            page.evaluate(
                "document.getElementById('support-chat-widget').shadowRoot.querySelectorAll('.log img').length"
            )
            == 0
        )
        page.screenshot(path=str(ARTIFACTS / "widget-phone.png"))

        page.get_by_test_id("chat-close").click()
        expect(page.get_by_test_id("chat-panel")).to_be_hidden()
        expect(page.get_by_test_id("chat-launcher")).to_be_focused()
        assert not errors, errors
    finally:
        context.close()


def test_the_signed_in_page_shows_a_one_time_messenger_code_that_links(browser, assistant) -> None:
    from playwright.sync_api import expect

    from support.clock import now_utc
    from support.db.engine import engine_for
    from support.messenger_links import link_with_code

    context, page, errors = open_portal(browser, assistant.url, None, locale="en-US")
    try:
        expect(page.get_by_test_id("link-code-button")).to_be_disabled()  # anonymous: nothing to link
        page.get_by_test_id("demo-user").select_option("admin@umbrella.example")
        page.get_by_test_id("link-code-button").click()
        result = page.get_by_test_id("link-code-result")
        expect(result).to_contain_text("Send the bot: link ", timeout=ANSWER_TIMEOUT)
        code = re.search(r"link ([A-Z0-9]{6})", result.inner_text()).group(1)
        page.screenshot(path=str(ARTIFACTS / "widget-link-code.png"))
        assert not errors, errors
    finally:
        context.close()
    engine = engine_for(f"sqlite:///{assistant.database}")
    assert link_with_code(engine, "telegram", "777", code, now_utc()).email == "admin@umbrella.example"
    assert link_with_code(engine, "telegram", "778", code, now_utc()).status == "used"  # single use
