"""The browser the page tests drive: Debian's Chromium through Playwright (which never downloads one here)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from support.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
# Headless as root, and nothing that reaches for the network (this machine has none but the registries).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Requested before `assistant`, so that a missing browser fails before the slow start."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package (apt-get install chromium). "
            "Playwright's own browser download is not used here.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
