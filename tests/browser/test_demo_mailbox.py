"""The development mailbox on the demo page, in a real browser: a newcomer cancels in the chat and sees the
confirmation arrive from the mail catcher `make run` starts, asks whether it was sent, and has it sent again."""

from __future__ import annotations

from tests.browser.conftest import ARTIFACTS
from tests.helpers.server import new_past_due_customer
from tests.helpers.widget_page import ANSWER_TIMEOUT, ask, open_portal, settled_transcript, transcript


def test_a_cancellation_confirmation_arrives_in_the_demo_mailbox_and_can_be_sent_again(browser, assistant) -> None:
    from playwright.sync_api import expect

    email = new_past_due_customer(f"sqlite:///{assistant.database}", language="en")
    context, page, errors = open_portal(browser, assistant.url, None, locale="en-US")
    try:
        page.get_by_test_id("demo-user").select_option(email)
        mailbox = page.get_by_test_id("demo-mailbox")
        expect(mailbox).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(mailbox).to_contain_text(f"Emails sent to {email} arrive here")
        expect(mailbox).to_contain_text("No email yet.")
        for text in ("I want to cancel my subscription", "no", "yes"):
            ask(page, text)  # the offer declined, then the cancellation confirmed
            settled_transcript(page)
        messages = page.get_by_test_id("mailbox-message")
        assert "is cancelled" in page.get_by_test_id("chat-log").inner_text(), transcript(page)
        expect(messages).to_have_count(1, timeout=ANSWER_TIMEOUT)
        expect(messages.first).to_contain_text("cancel", ignore_case=True)
        messages.first.locator("summary").click()
        expect(messages.first.locator("pre")).to_contain_text("Standard")
        ask(page, "did you actually send me the confirmation email?")
        expect(page.get_by_test_id("chat-log")).to_contain_text(f"sent to {email}", timeout=ANSWER_TIMEOUT)
        ask(page, "yes please")
        expect(messages).to_have_count(2, timeout=ANSWER_TIMEOUT)
        page.screenshot(path=str(ARTIFACTS / "demo-mailbox.png"), full_page=True)
        assert not errors, errors
    finally:
        context.close()
