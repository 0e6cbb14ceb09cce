"""Reading the assistant's answers and driving a handoff over the agent API, for the end-to-end tests."""

from __future__ import annotations

import re
import time
from typing import Callable, List, Optional

import requests

from components.language_detector import LanguageDetector
from tests.helpers.server import Assistant

AGENT = ("agent", "agent-dev-password")
REFERENCE = re.compile(r"HD-[0-9A-Z]{6}")
DETECTOR = LanguageDetector(LanguageDetector.get_default_config())


def texts(replies: List[dict]) -> str:
    """The text of every reply, one per line."""
    return "\n".join(reply.get("text", "") for reply in replies)


def language(replies: List[dict]) -> Optional[str]:
    """The language the replies are written in ("fr", "en"), or None."""
    return DETECTOR.detect(texts(replies))["code"]


def reference_in(text: str) -> str:
    match = REFERENCE.search(text)
    assert match, text
    return match.group(0)


def eventually(check: Callable[[], bool], seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def api(assistant: Assistant, method: str, path: str, auth=AGENT, **kwargs) -> requests.Response:
    """The agent API (/agent/api), with the development agent's credentials unless told otherwise."""
    return requests.request(method, f"{assistant.url}/agent/api{path}", auth=auth, timeout=30, **kwargs)


def ticket(assistant: Assistant, reference: str) -> dict:
    response = api(assistant, "GET", f"/tickets/{reference}")
    assert response.status_code == 200, response.text
    return response.json()["ticket"]


def last_intent(assistant: Assistant, sender: str) -> Optional[str]:
    """The intent the NLU gave the latest message of a REST sender's conversation."""
    users = [e for e in assistant.tracker(assistant.rest(sender))["events"] if e["event"] == "user"]
    return users[-1]["parse_data"]["intent"]["name"] if users else None
