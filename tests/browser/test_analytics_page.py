"""The manager's analytics page in Chromium against the running assistant: a known set of conversations on
7-8 January 2030 (tests/helpers/analytics_data.py), the figures on the page, the CSV of a table, a phone-sized
screen; an agent without the manager role sees nothing. Screenshots go to tests/artifacts/."""

from __future__ import annotations

from tests.browser.conftest import ARTIFACTS
from tests.browser.test_widget_browser import ANSWER_TIMEOUT
from tests.helpers.analytics_data import fill_conversations, fill_tables

RANGE = "from=2030-01-07&to=2030-01-08"


def _sign_in(page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/agent/analytics?{RANGE}")
    page.get_by_test_id("analytics-login-name").fill(name)
    page.get_by_test_id("analytics-login-password").fill(password)
    page.get_by_test_id("analytics-login-submit").click()


def test_the_manager_reads_the_figures_downloads_a_table_and_uses_a_phone(browser, assistant) -> None:
    from playwright.sync_api import expect

    url = f"sqlite:///{assistant.database}"
    fill_conversations(url)
    fill_tables(url)
    context = browser.new_context(accept_downloads=True, locale="en-US")
    page = context.new_page()
    errors: list = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        _sign_in(page, assistant.url, "manager", "manager-dev-password")
        expect(page.locator('main[data-loaded="true"]')).to_have_count(1, timeout=ANSWER_TIMEOUT)
        for key, shown in (
            ("conversations", "3"),
            ("containment_rate", "66.7%"),
            ("handoff_rate", "33.3%"),
            ("misunderstanding_rate", "33.3%"),
            ("csat_average", "4"),
            ("first_reply_minutes_median", "12 min"),
            ("resolution_minutes_median", "1 h 30 min"),
        ):
            expect(page.get_by_test_id(f"summary-{key}")).to_contain_text(shown)
        expect(page.get_by_test_id("table-not_understood")).to_contain_text("Je suis [name], rappelez le [phone]")
        expect(page.get_by_test_id("table-not_understood")).not_to_contain_text("Dupont")
        expect(page.get_by_test_id("table-handoff_reasons")).to_contain_text("customer_request")
        for chart in ("topics_per_day", "handoff_reasons", "csat", "languages", "channels"):
            expect(page.get_by_test_id(f"chart-{chart}")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "analytics-desktop.png"), full_page=True)
        with page.expect_download() as download:
            page.get_by_test_id("csv-csat").click()
        lines = open(download.value.path(), encoding="utf-8").read().splitlines()
        assert lines == ["score,answers", "1,0", "2,0", "3,1", "4,0", "5,1"]
        page.set_viewport_size({"width": 360, "height": 740})
        page.wait_for_timeout(300)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
        page.screenshot(path=str(ARTIFACTS / "analytics-phone.png"), full_page=True)
        page.goto(f"{assistant.url}/agent/")  # the console, signed in by the same session, links to the page
        expect(page.get_by_test_id("analytics-link")).to_be_visible(timeout=ANSWER_TIMEOUT)
        assert not errors, errors
    finally:
        context.close()


def test_an_agent_without_the_manager_role_sees_no_figures(browser, assistant) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    try:
        _sign_in(page, assistant.url, "agent", "agent-dev-password")
        expect(page.get_by_test_id("analytics-forbidden")).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(page.get_by_test_id("summary-conversations")).to_have_count(0)
        page.goto(f"{assistant.url}/agent/")
        expect(page.get_by_test_id("agent-name")).to_have_text("agent", timeout=ANSWER_TIMEOUT)
        expect(page.get_by_test_id("analytics-link")).to_be_hidden()
    finally:
        context.close()


def test_the_manager_exports_then_erases_a_customers_data_from_the_page(browser, assistant) -> None:
    import json
    import uuid

    from playwright.sync_api import expect

    from support.identity import issue_token
    from tests.helpers.server import new_past_due_customer

    email = new_past_due_customer(f"sqlite:///{assistant.database}")
    sender = uuid.uuid4().hex
    assert assistant.say("why did my renewal fail?", sender, {"token": issue_token(email)})
    context = browser.new_context(accept_downloads=True, locale="en-US")
    page = context.new_page()
    try:
        _sign_in(page, assistant.url, "manager", "manager-dev-password")
        expect(page.get_by_test_id("privacy-form")).to_be_visible(timeout=ANSWER_TIMEOUT)
        page.get_by_test_id("privacy-value").fill(email)
        with page.expect_download() as download:
            page.get_by_test_id("privacy-export").click()
        exported = json.loads(open(download.value.path(), encoding="utf-8").read())
        assert list(exported["conversations"]) == [assistant.rest(sender)]
        page.get_by_test_id("privacy-erase").click()
        expect(page.get_by_test_id("privacy-confirm-erase")).to_be_disabled()
        page.get_by_test_id("privacy-confirm-value").fill(email)
        page.get_by_test_id("privacy-confirm-erase").click()
        expect(page.get_by_test_id("privacy-result")).to_contain_text("Erased: 1 conversation", timeout=ANSWER_TIMEOUT)
        page.screenshot(path=str(ARTIFACTS / "analytics-privacy.png"), full_page=False)
    finally:
        context.close()
    assert not [e for e in assistant.tracker(assistant.rest(sender))["events"] if e["event"] == "user"]
