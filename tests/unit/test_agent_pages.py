"""The agent console and the analytics page load only files the Rasa server serves, the shared helpers first."""

from __future__ import annotations

import re

import pytest

from channels.agent.console import CONSOLE_FILES, WEB_DIR

PAGES = {"index.html": "console.js", "analytics.html": "analytics.js"}
SHARED = ("function $(", "function el(", "function notify(", "function basicAuth(", "function ApiError(")


def _loaded(page: str) -> list:
    return re.findall(r'(?:src|href)="/agent/static/([^"]+)"', (WEB_DIR / page).read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", PAGES)
def test_every_file_a_page_loads_is_served(page: str) -> None:
    for name in _loaded(page):
        assert name in CONSOLE_FILES, (
            f"{page} loads /agent/static/{name}, which channels/agent/console.py does not serve"
        )
        if "node_modules" not in CONSOLE_FILES[name][0].parts:  # Chart.js comes from npm (make setup)
            assert CONSOLE_FILES[name][0].is_file(), name


@pytest.mark.parametrize("page, script", PAGES.items())
def test_the_shared_helpers_load_before_the_page_script_and_are_not_repeated(page: str, script: str) -> None:
    scripts = [name for name in _loaded(page) if name.endswith(".js")]
    assert scripts.index("common.js") < scripts.index(script)
    own = (WEB_DIR / script).read_text(encoding="utf-8")
    assert [helper for helper in SHARED if helper in own] == []
    assert "sessionStorage" not in own and "agentConsole.credentials" not in own  # the session lives in common.js
