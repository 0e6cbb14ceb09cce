"""Two Rasa replicas and two action servers behind nginx (scripts/cluster.sh, as `make cluster` starts them) on
PostgreSQL, Redis and RabbitMQ: one replica is killed while REST conversations, widgets and payment retries go on,
and nothing is lost, handled twice or charged twice; an agent's reply reaches a widget held by the other replica;
the killed replica, started again by cluster.sh, takes traffic."""

from __future__ import annotations

import os
import signal
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, List, Tuple

import pytest
import requests
from sqlalchemy import func, select

from support.db import models as m
from support.db.engine import engine_for, session_scope
from support.identity import issue_token
from support.payments.sandbox import SANDBOX_SLOW
from tests.helpers.cluster import Cluster, running_cluster
from tests.helpers.conversation import reference_in, texts
from tests.helpers.server import Assistant, add_past_due_customer
from tests.helpers.socketio_client import ChatClient, Widget

PORT = int(os.environ.get("TEST_CLUSTER_PORT", 18080))
RASA_PORTS = (PORT + 100, PORT + 101)
REDIS_URL = "redis://127.0.0.1:6379/5"
AGENT = ("agent", "agent-dev-password")
WIDGETS = [f"127.0.0.{n}" for n in range(2, 12)]  # ten widgets that nginx's address hash spreads over the replicas
REST_TURNS = ("how do I cancel my subscription?", "and what about telephony credits?", "thanks")
WIDGET_TURNS = {
    "en-GB": ("what happens to my data if I cancel?", "how do I export my contacts first?"),
    "fr-FR": ("que deviennent mes données si je résilie ?", "et comment j'exporte mes contacts avant ?"),
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster(PORT, "assistant_cluster_test", REDIS_URL) as found:
        yield found


def _say(
    url: str, sender: str, text: str, message_id: str, metadata: dict | None = None, first: str | None = None
) -> list:
    """A REST message with its client id, retried (same id) until a replica answers it; the first try goes to
    `first` when given (a replica itself), the retries to `url`."""
    body = {"sender": sender, "message": text, "message_id": message_id, "metadata": metadata or {}}
    deadline = time.monotonic() + 120
    target = first or url
    while True:
        try:
            response = requests.post(f"{target}/webhooks/rest/webhook", json=body, timeout=90)
            if response.status_code == 200:
                return response.json()
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"{sender}/{message_id} never answered"
        target = url
        time.sleep(0.5)


def _user_ids(cluster: Cluster, conversation: str) -> List[str]:
    return [e.get("message_id") for e in cluster.tracker(conversation)["events"] if e["event"] == "user"]


def _past_due_customers(cluster: Cluster, count: int) -> List[Tuple[str, str]]:
    """(REST sender, email) of new admins whose renewal failed, paying with the sandbox's slow card (charged,
    answered after 3 s)."""
    payers = [(f"payer-{n}-{uuid.uuid4().hex[:8]}", f"admin@slow{uuid.uuid4().hex[:8]}.example") for n in range(count)]
    with session_scope(engine_for(cluster.database_url)) as session:
        for _, email in payers:
            add_past_due_customer(session, email, last4=SANDBOX_SLOW)
    return payers


def _charges(cluster: Cluster, email: str) -> Tuple[int, int, str, int]:
    """(sandbox charges, succeeded attempts, subscription status, emails queued) of a customer's account."""
    with session_scope(engine_for(cluster.database_url)) as session:
        account = session.execute(select(m.User.account_id).where(m.User.email == email)).scalar_one()
        invoices = session.execute(select(m.Invoice.id).where(m.Invoice.account_id == account)).scalars().all()
        charges = sum(
            session.execute(
                select(func.count()).where(m.SandboxCharge.idempotency_key.like(f"invoice-{invoice}-attempt-%"))
            ).scalar_one()
            for invoice in invoices
        )
        succeeded = session.execute(
            select(func.count())
            .select_from(m.PaymentAttempt)
            .where(m.PaymentAttempt.invoice_id.in_(invoices), m.PaymentAttempt.outcome == "succeeded")
        ).scalar_one()
        status = session.execute(select(m.Subscription.status).where(m.Subscription.account_id == account)).scalar_one()
        emails = session.execute(
            select(func.count()).select_from(m.OutboxEmail).where(m.OutboxEmail.account_id == account)
        ).scalar_one()
    return charges, succeeded, str(status), emails


def test_a_replica_killed_under_load_loses_nothing_and_handles_nothing_twice(cluster: Cluster) -> None:
    """20 conversations (10 REST, 10 widgets) and 3 payment retries are under way when one replica stops
    (SIGSTOP: whatever reaches it now is never handled) and is then killed (SIGKILL)."""
    victim, survivor = RASA_PORTS
    paused = f"cluster-paused-{uuid.uuid4().hex[:6]}"
    paused_reference = reference_in(texts(_say(cluster.url, paused, "I want to talk to a person", "h0")))

    rest = [f"cluster-{n}-{uuid.uuid4().hex[:8]}" for n in range(10)]
    for sender in rest:
        assert texts(_say(cluster.url, sender, REST_TURNS[0], "m0"))
    widgets = [Widget(cluster.url, source, "fr-FR" if n % 2 else "en-GB") for n, source in enumerate(WIDGETS)]
    for widget in widgets:
        widget.connect()
        widget.send(WIDGET_TURNS[widget.auth["locale"]][0], "w0")
    holders = {address: port for address, port in cluster.socketio_holders().items() if address in WIDGETS}
    assert set(holders.values()) == set(RASA_PORTS), holders  # some widgets on each replica
    payers = _past_due_customers(cluster, 3)
    for sender, email in payers:
        offer = texts(
            _say(cluster.url, sender, "please retry my failed payment now", "p0", {"token": issue_token(email)})
        )
        assert "0505" in offer, offer
    _wait(lambda: all(_user_ids(cluster, w.conversation) == ["w0"] and _turn_over(cluster, w) for w in widgets))

    with ThreadPoolExecutor(max_workers=len(rest) + len(payers)) as pool:
        # the payments' yes reach the victim itself: their charges are under way (3 s at the bank) when it dies;
        # each is then sent again (same id) through nginx
        paying = [
            pool.submit(
                _say, cluster.url, sender, "yes", "p1", {"token": issue_token(email)}, cluster.replica(victim).url
            )
            for sender, email in payers
        ]
        time.sleep(1.0)
        victim_pid = cluster.pid(victim)
        os.kill(victim_pid, signal.SIGSTOP)
        talking = [pool.submit(_say, cluster.url, sender, REST_TURNS[1], "m1") for sender in rest]
        for widget in widgets:
            widget.send(WIDGET_TURNS[widget.auth["locale"]][1], "w1")
        time.sleep(1.5)
        os.kill(victim_pid, signal.SIGKILL)  # cluster.sh starts it again a second later, as an orchestrator would
        for future in talking:
            assert future.result()
        paid = [texts(future.result()) for future in paying]
    assert all("The payment went through" in answer for answer in paid), paid  # whichever replica answered
    for sender in rest:
        assert texts(_say(cluster.url, sender, REST_TURNS[2], "m2"))
        assert _user_ids(cluster, f"rest-{sender}") == ["m0", "m1", "m2"], sender  # each once, in order

    # the widgets: the victim's reconnected to the survivor, saw their history, sent their last message again
    _wait(lambda: all(_user_ids(cluster, w.conversation) == ["w0", "w1"] and _turn_over(cluster, w) for w in widgets))
    stranded = [w for w in widgets if holders[w.source] == victim]
    assert all(len(w.histories) >= 2 and w.resent == ["w1"] for w in stranded), [(w.source, w.resent) for w in stranded]
    assert all(any(m["text"] == WIDGET_TURNS[w.auth["locale"]][0] for m in w.histories[-1]) for w in stranded)
    assert all(w.replies for w in widgets)  # every widget was answered after its second message
    # a person's reply, sent through nginx to any replica, reaches a widget that moved to the survivor
    moved = stranded[0]
    moved.send(
        "I'd like to talk to a person please" if moved.auth["locale"] == "en-GB" else "je veux parler à un conseiller",
        "w2",
    )
    _wait(
        lambda: _user_ids(cluster, moved.conversation)[-1:] == ["w2"] and cluster.tracker(moved.conversation)["paused"]
    )
    reference = reference_in(texts(moved.replies))
    reply = requests.post(f"{cluster.url}/agent/api/tickets/{reference}/reply", json={"text": "Back after the failover"},
                          auth=AGENT, timeout=30)  # fmt: skip
    assert reply.status_code == 200 and reply.json()["delivered"] is True
    _wait(lambda: any(m.get("text") == "Back after the failover" for m in moved.replies), 30)
    for widget in widgets:
        widget.close()

    # the payments: each charged once and its receipt queued once, whatever the customer's retry found
    assert [_charges(cluster, email) for _, email in payers] == [(1, 1, "active", 1)] * len(payers)  # one receipt

    # the same message sent again (a client that never saw the answer) is answered, not handled again
    again = _say(cluster.url, rest[0], REST_TURNS[1], "m1")
    assert texts(again) and _user_ids(cluster, f"rest-{rest[0]}") == ["m0", "m1", "m2"]
    # a conversation a person owns stays silent whichever replica gets its next message
    assert _say(cluster.url, paused, "hello? anyone?", "h1") == []
    ticket = requests.get(f"{cluster.url}/agent/api/tickets/{paused_reference}", auth=AGENT, timeout=30).json()[
        "ticket"
    ]
    assert "hello? anyone?" in [line["text"] for line in ticket["transcript"]]

    cluster.back(victim, victim_pid)
    assert texts(cluster.replica(victim).say("how do I cancel?", f"back-{uuid.uuid4().hex[:6]}"))  # takes traffic


def _turn_over(cluster: Cluster, widget: Widget) -> bool:
    events = cluster.tracker(widget.conversation)["events"]
    return events[-1]["event"] == "action" and events[-1].get("name") == "action_listen"


def _wait(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.5)


def test_an_agent_reply_reaches_a_widget_held_by_the_other_replica(cluster: Cluster) -> None:
    holder, other = cluster.replica(RASA_PORTS[1]), cluster.replica(RASA_PORTS[0])
    token = issue_token("admin@globex.example")
    with ChatClient(holder, {"token": token, "locale": "en-US"}) as chat:
        reference = reference_in(chat.send("I'd like to talk to a person"))
        # the reply goes to the other replica: Redis carries it to the replica that holds the widget
        reply = requests.post(
            f"{other.url}/agent/api/tickets/{reference}/reply",
            json={"text": "Hello from the desk"},
            auth=AGENT,
            timeout=30,
        )
        assert reply.status_code == 200 and reply.json()["delivered"] is True
        assert "Hello from the desk" in chat.receive()
        requests.post(f"{cluster.url}/agent/api/tickets/{reference}/resolve", auth=AGENT, timeout=30)
    # the same customer reconnects through nginx and finds the conversation's history
    with ChatClient(Assistant(PORT, 0, cluster.token), {"token": token, "locale": "en-US"}) as again:
        assert any("Hello from the desk" in (m.get("text") or "") for m in again.history)


def test_one_conversations_messages_sent_to_both_replicas_at_once_are_handled_one_at_a_time(cluster: Cluster) -> None:
    """Rasa's Redis lock store (RasaHQ/rasa#9213: two replicas taking a ticket at the same instant): each pair of
    messages, one per replica at the same moment, must both be handled, one after the other, nothing lost."""
    first, second = cluster.replica(RASA_PORTS[0]), cluster.replica(RASA_PORTS[1])
    sender = f"race-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(8):
            bodies = [
                {"sender": sender, "message": "how do I cancel my subscription?", "message_id": f"a{n}"},
                {"sender": sender, "message": "what happens to my data after cancelling?", "message_id": f"b{n}"},
            ]
            answers = list(
                pool.map(
                    lambda pair: requests.post(f"{pair[0].url}/webhooks/rest/webhook", json=pair[1], timeout=60),
                    zip((first, second), bodies),
                )
            )
            assert all(a.status_code == 200 and a.json() for a in answers)
    events = [e for e in cluster.tracker(f"rest-{sender}")["events"] if e["event"] in ("user", "bot", "action")]
    turns: List[str] = []
    for event in events:
        if event["event"] == "user":
            turns.append(event["message_id"])
        elif event["event"] == "action" and event["name"] == "action_listen" and turns:
            turns[-1] += ":done"
    assert len(turns) == 16 and all(turn.endswith(":done") for turn in turns), turns  # no turn cut by another
    assert sorted(t.split(":")[0] for t in turns) == sorted([f"a{n}" for n in range(8)] + [f"b{n}" for n in range(8)])


def test_one_conversations_flood_is_counted_by_both_replicas_together(cluster: Cluster) -> None:
    """20 messages a minute per conversation (the default), counted in Redis: not 20 per replica."""
    sender = f"flood-{uuid.uuid4().hex[:8]}"
    replicas = [cluster.replica(port) for port in RASA_PORTS]
    answers = [texts(replicas[n % 2].say("how do I cancel my subscription?", sender)) for n in range(21)]
    assert all("cancel" in answer.lower() for answer in answers[:20])
    assert "writing a little too fast" in answers[20], answers[20]
