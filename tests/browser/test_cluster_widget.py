"""The real widget (web/widget/chat-widget.js in Debian's Chromium) on two replicas behind nginx: the replica that
holds its connection stops while a message is on its way (SIGSTOP: the message is never handled) and is then
killed (cluster.sh starts it again). The widget reconnects through nginx, sees that its history lacks the
message, sends it again under the same id, and the customer gets one answer; the conversation holds it once."""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from typing import Iterator, List

import pytest

from tests.helpers.cluster import Cluster, running_cluster
from tests.helpers.widget_page import ANSWER_TIMEOUT, ask, open_portal, settled_transcript

PORT = int(os.environ.get("TEST_CLUSTER_BROWSER_PORT", 18090))
REDIS_URL = "redis://127.0.0.1:6379/8"
FIRST = "How do I cancel my subscription?"
SECOND = "What happens to my telephony credits if I cancel?"


@pytest.fixture(scope="module")
def cluster(browser) -> Iterator[Cluster]:
    with running_cluster(PORT, "assistant_cluster_browser_test", REDIS_URL) as found:
        yield found


def _conversation(page) -> str:
    """The anonymous visitor's conversation id: the subject of the session token the widget keeps."""
    token = page.evaluate("() => Object.entries(localStorage).find(([k]) => k.startsWith('supportchat:session:'))[1]")
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"]


def _user_texts(cluster: Cluster, conversation: str) -> List[str]:
    return [e["text"] for e in cluster.tracker(conversation)["events"] if e["event"] == "user"]


def test_a_message_lost_with_its_replica_is_sent_again_and_answered_once(browser, cluster: Cluster) -> None:
    from playwright.sync_api import expect

    context, page, errors = open_portal(browser, cluster.url, None, locale="en-US")
    try:
        ask(page, FIRST)
        conversation = _conversation(page)
        holders = [port for port in cluster.rasa_ports if cluster.open_connections(port)]
        assert len(holders) == 1, holders  # the widget's websocket, open through nginx to one replica
        holder = holders[0]
        holder_pid = cluster.pid(holder)
        os.kill(holder_pid, signal.SIGSTOP)
        chat_input = page.get_by_test_id("chat-input")
        chat_input.fill(SECOND)
        chat_input.press("Enter")  # into the stopped replica's socket: never read
        time.sleep(1.5)
        os.kill(holder_pid, signal.SIGKILL)
        deadline = time.monotonic() + ANSWER_TIMEOUT / 1000
        while _user_texts(cluster, conversation) != [FIRST, SECOND]:
            assert time.monotonic() < deadline, _user_texts(cluster, conversation)
            time.sleep(0.5)
        expect(page.locator('[data-testid="chat-log"][data-loaded="true"]')).to_have_count(1, timeout=ANSWER_TIMEOUT)
        shown = settled_transcript(page, quiet_seconds=3.0)
        users = [text for kind, text in shown if kind == "user"]
        assert users == [FIRST, SECOND], shown  # shown once, as the conversation holds it once
        answer = [text for kind, text in shown[shown.index(("user", SECOND)) + 1 :] if kind == "bot"]
        assert any("credit" in text.lower() for text in answer), shown  # the second question's own answer
        assert not errors, errors
    finally:
        context.close()
    cluster.back(holder, holder_pid)
