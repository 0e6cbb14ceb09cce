"""Load benchmark: turn latency, throughput, errors, CPU per turn and memory of both servers under concurrent
conversations, with Rasa's own moodbot measured by the same harness as the floor of a Rasa turn here.

    python -m bench.load_bench [--database sqlite|postgresql] [--levels 1 5 20 50] [--seconds 20]
                               [--open-rate 20] [--transport rest|socketio|both] [--no-moodbot] [--tiny]
    make bench-load

Both servers start as users start them (scripts/run.sh, ports 15015/15065; --tiny 15017/15067) on a fresh demo
database (a SQLite file, or the assistant_load_bench database on PG_URL's PostgreSQL server). An asyncio client
plays the scripts of bench/load_scripts.py (French and English, anonymous and signed in, subscription status,
renewal failure, the cancellation flow to its confirmation, now and then a handoff) over REST and the widget's
socket.io, each run a new conversation. Per level: closed loop with 1, 5, 20, 50 conversations (each sends its
next message as soon as the reply is in, no think time; a turn's latency runs from sending to its last reply),
then an open loop of --open-rate messages per second with Poisson arrivals (each message goes to a conversation
waiting for its next turn, or starts one; its latency runs from its arrival, a widget's connection included).
CPU seconds per turn and peak RSS are read from /proc for each server's process tree. Then the same against
moodbot (`rasa init`, cached in bench/out/moodbot/ per Rasa version; port 15016, --tiny 15018; REST only).
Writes bench/out/load.json and bench/out/load.png (--out for another folder), prints a table.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Deque, Dict, Iterator, List, Optional, Tuple

import aiohttp
import socketio

os.environ.setdefault("APP_ENV", "development")  # the demo tokens are signed with the development secret

from sqlalchemy import select  # noqa: E402

from bench.load_scripts import (  # noqa: E402
    ASSISTANT_SCRIPTS,
    CANCELLING,
    MOODBOT_SCRIPTS,
    TRANSPORTS,
    Run,
    Script,
    describe,
    mix,
)
from support.db import models as m  # noqa: E402
from support.db.engine import engine_for, session_scope  # noqa: E402
from support.identity import issue_token  # noqa: E402
from tests.helpers.server import (  # noqa: E402
    Assistant,
    add_past_due_customer,
    fresh_demo_database,
    postgres_database,
    start_assistant,
)

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
MOODBOT_CACHE = OUT / "moodbot"
PORTS = {"full": (15015, 15065, 15016), "tiny": (15017, 15067, 15018)}  # Rasa, actions, moodbot
DATABASE = "assistant_load_bench"
SERVER_ENV = {"RATE_LIMIT_CONVERSATION": "1000000"}  # each simulated conversation talks without pause
TURNS_PER_SECOND_BOUND = 40  # far above what 2 cores give: sizes the pools of signed-in identities
TINY = {"levels": [1, 2], "seconds": 3.0, "open_rate": 2.0}
FULL = {"levels": [1, 5, 20, 50], "seconds": 20.0, "open_rate": 20.0}
ERROR_KINDS = ("http", "timeout", "empty")

# python-engineio 4.15's asyncio client builds its websocket's close timeout with aiohttp.ClientWSTimeout, which
# aiohttp 3.9 (pinned for Rasa) does not have; 3.9's ws_connect takes that timeout as a number of seconds.
if not hasattr(aiohttp, "ClientWSTimeout"):
    aiohttp.ClientWSTimeout = lambda ws_close=None, **_: ws_close  # type: ignore[attr-defined]


# --- processes: CPU and memory of a server's process tree, read from /proc (Linux) ---------------------------

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> Optional[List[str]]:
    """/proc/<pid>/stat from its third field on (the state), or None once the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _parents() -> Dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))):
            found[int(entry.name)] = int(fields[1])
    return found


def listening_pid(port: int) -> Optional[int]:
    """The process holding the listening TCP socket of `port` (this user's processes only)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                return int(entry.name)
        except OSError:
            continue
    return None


@dataclass
class ProcessTree:
    """A server: the process listening on its port, climbed up to (not including) scripts/run.sh, cluster.sh or
    this bench, with every descendant."""

    name: str
    root: int

    @classmethod
    def serving(cls, name: str, port: int) -> ProcessTree:
        pid = listening_pid(port)
        if pid is None:
            raise RuntimeError(f"nothing listens on port {port}")
        parents = _parents()
        while parents.get(pid, 1) not in (1, os.getpid()) and not re.search(r"scripts/\w+\.sh", _cmdline(parents[pid])):
            pid = parents[pid]
        return cls(name, pid)

    def pids(self) -> List[int]:
        parents, found = _parents(), [self.root]
        for pid in found:
            found.extend(child for child, parent in parents.items() if parent == pid)
        return found

    def cpu_seconds(self) -> float:
        stats = [s for s in map(_stat, self.pids()) if s]
        return sum(int(s[11]) + int(s[12]) + int(s[13]) + int(s[14]) for s in stats) / TICKS

    def rss_mb(self) -> float:
        return sum(int(s[21]) for s in map(_stat, self.pids()) if s) * PAGE / 2**20


# --- the database, and who signed-in conversations are ----------------------------------------------------------


def database_url(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'load-bench.db'}"
    return postgres_database(DATABASE)


def pool_size(runs: List[Run], appearances: int, levels: int, seconds: float) -> int:
    """Identities a pool needs: twice its share of the most runs the levels could play, and a few for warm-up."""
    mean_turns = sum(len(run.script.turns) for run in runs) / len(runs)
    bound = levels * seconds * TURNS_PER_SECOND_BOUND / mean_turns
    return math.ceil(2 * bound * appearances / len(runs)) + 4


class Identities:
    """Which email a signed-in run uses. REST: the demo user itself (a new sender id is a new conversation).
    socket.io: a new user of the demo user's account, same role (the widget's conversation is derived from
    the email, so a new email is a new conversation). The cancellation flow: a past_due account of its own
    on both transports, so that each run really cancels (a second cancellation on an account is only told
    that it is already done: fewer messages, and no confirmation to measure). A pool that runs out gets
    more in the database while the level runs (counted in `added`)."""

    def __init__(self, url: str, pools: Dict[str, List[str]]) -> None:
        self.url, self.pools = url, pools
        self.taken: Dict[str, int] = dict.fromkeys(pools, 0)
        self.added = 0
        self._lock = asyncio.Lock()

    @staticmethod
    def pool_key(run: Run) -> Optional[str]:
        user = run.script.user
        if user == CANCELLING:
            return f"{CANCELLING}:{run.script.language}"
        return f"clone:{user}" if user and run.transport == "socketio" else None

    async def email(self, run: Run) -> Optional[str]:
        key = self.pool_key(run)
        if key is None:
            return run.script.user
        async with self._lock:
            pool = self.pools[key]
            if self.taken[key] >= len(pool):
                more = await asyncio.to_thread(add_identities, self.url, key, len(pool), 20)
                pool.extend(more)
                self.added += len(more)
            self.taken[key] += 1
            return pool[self.taken[key] - 1]


def make_identities(url: str, runs: List[Run], levels: int, seconds: float) -> Identities:
    """The pools' users and accounts, added to the demo database before the servers start."""
    needed: Dict[str, int] = {}
    for run in runs:
        if (key := Identities.pool_key(run)) is not None:
            needed[key] = needed.get(key, 0) + 1
    pools = {key: add_identities(url, key, 0, pool_size(runs, n, levels, seconds)) for key, n in needed.items()}
    return Identities(url, pools)


def add_identities(url: str, key: str, first: int, count: int) -> List[str]:
    kind, name = key.split(":", 1)
    with session_scope(engine_for(url)) as session:
        if kind == CANCELLING:
            return _cancelling(session, name, range(first, first + count))
        return _clones(session, name, range(first, first + count))


def _clones(session: Any, email: str, numbers: range) -> List[str]:
    user = session.execute(select(m.User).where(m.User.email == email)).scalar_one()
    local, domain = email.split("@", 1)
    emails = [f"{local}.load{n}@{domain}" for n in numbers]
    for address in emails:
        session.add(
            m.User(account_id=user.account_id, email=address, name=user.name, role=user.role, language=user.language)
        )
    return emails


def _cancelling(session: Any, language: str, numbers: range) -> List[str]:
    emails = [f"admin@load-{language}-{n}.example" for n in numbers]
    for address in emails:
        add_past_due_customer(session, address, language)
    return emails


# --- the clients ----------------------------------------------------------------------------------------------


@dataclass
class TurnResult:
    latency: float
    error: Optional[str] = None  # http (or connection), timeout, empty
    messages: List[dict] = field(default_factory=list)


def widget_messages(rest_messages: List[dict]) -> int:
    """How many `bot_uttered` events the widget gets for the messages REST answered (Rasa's socket.io output
    splits a text with buttons on blank lines, as REST already does for plain texts)."""
    count = 0
    for message in rest_messages:
        if message.get("text") and message.get("buttons"):
            count += len(message["text"].strip().split("\n\n"))
        elif message.get("text"):
            count += 1
        count += sum(1 for key in ("image", "custom", "attachment") if message.get(key))
    return count


async def rest_turn(http: aiohttp.ClientSession, url: str, body: dict, timeout: float) -> TurnResult:
    started = time.perf_counter()
    try:
        async with http.post(url, json=body, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            status = response.status
            replies = await response.json(content_type=None) if status == 200 else None
    except asyncio.TimeoutError:
        return TurnResult(time.perf_counter() - started, "timeout")
    except (aiohttp.ClientError, ValueError):
        return TurnResult(time.perf_counter() - started, "http")
    latency = time.perf_counter() - started
    if status != 200 or not isinstance(replies, list):
        return TurnResult(latency, "http")
    return TurnResult(latency, None if replies else "empty", replies)


class RestConversation:
    def __init__(self, http: aiohttp.ClientSession, url: str, metadata: dict, timeout: float) -> None:
        self.http, self.url, self.timeout = http, f"{url}/webhooks/rest/webhook", timeout
        self.sender = uuid.uuid4().hex
        self.metadata = metadata

    async def open(self) -> Optional[str]:
        return None

    async def say(self, text: str, expected: int) -> TurnResult:
        body = {"sender": self.sender, "message": text, "metadata": self.metadata}
        return await rest_turn(self.http, self.url, body, self.timeout)

    async def close(self) -> None:
        return None


class WidgetConversation:
    """The chat widget: a socket.io connection (websocket) with the token and locale as auth. A turn is over
    when the number of messages that turn gives (learnt over REST at warm-up) has arrived."""

    def __init__(self, url: str, auth: dict, timeout: float, source: Optional[str] = None) -> None:
        self.url, self.auth, self.timeout = url, auth, timeout
        # from `source` (127.0.0.x): nginx's address hash spreads the widgets over the replicas as it would clients
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0))) if source else None
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.confirmed = asyncio.Event()
        self.client.on("bot_uttered", self.inbox.put_nowait)
        self.client.on("session_confirm", lambda _data: self.confirmed.set())
        self.late = 0  # messages that came after their turn was counted over

    async def open(self) -> Optional[str]:
        try:
            await self.client.connect(
                self.url,
                auth=self.auth,
                transports=["websocket"],
                socketio_path="/socket.io",
                wait_timeout=self.timeout,
            )
            await asyncio.wait_for(self.confirmed.wait(), self.timeout)
        except asyncio.TimeoutError:
            return "timeout"
        except (socketio.exceptions.ConnectionError, aiohttp.ClientError, OSError):
            return "http"
        return None

    async def say(self, text: str, expected: int) -> TurnResult:
        while not self.inbox.empty():
            self.inbox.get_nowait()
            self.late += 1
        started = time.perf_counter()
        messages: List[dict] = []
        try:
            await self.client.emit("user_uttered", {"message": text})
            while len(messages) < expected:
                remaining = self.timeout - (time.perf_counter() - started)
                messages.append(await asyncio.wait_for(self.inbox.get(), max(0.001, remaining)))
        except asyncio.TimeoutError:
            return TurnResult(time.perf_counter() - started, "timeout" if messages or expected else "empty", messages)
        except socketio.exceptions.SocketIOError:
            return TurnResult(time.perf_counter() - started, "http", messages)
        return TurnResult(time.perf_counter() - started, None, messages)

    async def close(self) -> None:
        self.late += self.inbox.qsize()
        try:
            await asyncio.wait_for(self.client.disconnect(), 10)
        except (asyncio.TimeoutError, socketio.exceptions.SocketIOError, aiohttp.ClientError, OSError):
            pass  # the conversation is over either way
        if self.http is not None:
            await self.http.close()


Conversation = Any  # RestConversation | WidgetConversation


# --- one level of load ------------------------------------------------------------------------------------------


def percentile(values: List[float], share: float) -> float:
    """Nearest rank: p50 <= p95 <= p99 always."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1))]


def latency_summary(seconds: List[float]) -> Dict[str, Optional[float]]:
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "mean": None, "max": None}
    ms = [value * 1000 for value in seconds]
    return {
        "p50": round(percentile(ms, 0.50), 1),
        "p95": round(percentile(ms, 0.95), 1),
        "p99": round(percentile(ms, 0.99), 1),
        "mean": round(sum(ms) / len(ms), 1),
        "max": round(max(ms), 1),
    }


@dataclass
class Level:
    mode: str  # closed or open
    concurrency: Optional[int] = None
    rate: Optional[float] = None

    @property
    def label(self) -> str:
        return f"{self.concurrency} conv" if self.mode == "closed" else f"open {self.rate:g}/s"


@dataclass
class LevelStats:
    latencies: Dict[str, List[float]] = field(default_factory=dict)
    errors: Dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    conversations: int = 0
    connects: List[float] = field(default_factory=list)
    late: int = 0  # widget messages beyond the count a turn was expected to give

    def add(self, transport: str, result: TurnResult) -> None:
        if result.error:
            self.errors[result.error] += 1
        else:
            self.latencies.setdefault(transport, []).append(result.latency)

    def summary(self, level: Level, elapsed: float) -> Dict[str, Any]:
        every = [value for values in self.latencies.values() for value in values]
        return {
            "label": level.label,
            "mode": level.mode,
            "concurrency": level.concurrency,
            "rate": level.rate,
            "seconds": round(elapsed, 2),
            "conversations": self.conversations,
            "turns": len(every),
            "messages_per_second": round(len(every) / elapsed, 2) if elapsed else 0.0,
            "latency_ms": latency_summary(every),
            "by_transport": {
                transport: {"turns": len(values), **latency_summary(values)}
                for transport, values in sorted(self.latencies.items())
            },
            "errors": {**self.errors, "total": sum(self.errors.values())},
            "socketio_connect_ms": latency_summary(self.connects) if self.connects else None,
            "socketio_late_messages": self.late,
        }


@dataclass
class Target:
    """A running bot: where it is, which process trees serve it, who its signed-in customers are."""

    name: str
    url: str
    trees: List[ProcessTree]
    runs: List[Run]
    identities: Optional[Identities] = None
    expected: Dict[str, List[int]] = field(default_factory=dict)  # widget messages per turn, per script
    sources: List[str] = field(default_factory=list)  # local addresses the widgets take in turn (replicas)


class Player:
    def __init__(self, target: Target, http: aiohttp.ClientSession, timeout: float) -> None:
        self.target, self.http, self.timeout = target, http, timeout
        self._runs: Iterator[Run] = iter(())
        self._widgets = 0

    def next_run(self) -> Run:
        try:
            return next(self._runs)
        except StopIteration:
            self._runs = iter(self.target.runs)
            return next(self._runs)

    async def conversation(self, run: Run) -> Conversation:
        script = run.script
        identities = self.target.identities
        email = await identities.email(run) if identities and script.signed_in else script.user
        if run.transport == "socketio":
            auth = {"locale": script.locale, **({"token": issue_token(email)} if email else {})}
            sources, self._widgets = self.target.sources, self._widgets + 1
            source = sources[self._widgets % len(sources)] if sources else None
            return WidgetConversation(self.target.url, auth, self.timeout, source)
        metadata = {"locale": script.locale, **({"token": issue_token(email)} if email else {})}
        return RestConversation(self.http, self.target.url, metadata, self.timeout)

    async def start(self, run: Run, stats: LevelStats) -> Optional[Tuple[Run, Conversation]]:
        conversation = await self.conversation(run)
        started = time.perf_counter()
        problem = await conversation.open()
        if problem:
            stats.errors[problem] += 1
            await self.finish(conversation, stats)
            return None
        if run.transport == "socketio":
            stats.connects.append(time.perf_counter() - started)
        stats.conversations += 1
        return run, conversation

    @staticmethod
    async def finish(conversation: Conversation, stats: LevelStats) -> None:
        await conversation.close()
        stats.late += getattr(conversation, "late", 0)

    def expected(self, run: Run, turn: int) -> int:
        return self.target.expected.get(run.script.name, [1] * len(run.script.turns))[turn]

    async def closed_loop(self, concurrency: int, seconds: float, stats: LevelStats) -> None:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = await self.start(self.next_run(), stats)
                if started is None:
                    await asyncio.sleep(0.2)  # a refused connection: no busy loop
                    continue
                run, conversation = started
                for turn, text in enumerate(run.script.turns):
                    if time.perf_counter() >= deadline:
                        break
                    result = await conversation.say(text, self.expected(run, turn))
                    stats.add(run.transport, result)
                    if result.error:
                        break
                await self.finish(conversation, stats)

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def open_loop(self, rate: float, seconds: float, stats: LevelStats, seed: int) -> None:
        """Messages arrive as a Poisson process: each goes to a conversation waiting for its next turn, or
        starts a new one; nothing waits for a reply before the next arrival."""
        rng, ready, tasks = random.Random(seed), deque(), set()  # type: ignore[var-annotated]
        started = time.perf_counter()
        arrival = started
        while (arrival := arrival + rng.expovariate(rate)) < started + seconds:
            await asyncio.sleep(max(0.0, arrival - time.perf_counter()))
            task = asyncio.create_task(self._arrival(ready, stats))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        for _, conversation, _ in ready:
            await self.finish(conversation, stats)

    async def _arrival(self, ready: Deque[Tuple[Run, Conversation, int]], stats: LevelStats) -> None:
        """One message: its latency counts from its arrival (a new widget conversation connects first)."""
        arrived = time.perf_counter()
        if ready:
            run, conversation, turn = ready.popleft()
        else:
            started = await self.start(self.next_run(), stats)
            if started is None:
                return
            (run, conversation), turn = started, 0
        result = await conversation.say(run.script.turns[turn], self.expected(run, turn))
        result.latency = time.perf_counter() - arrived
        stats.add(run.transport, result)
        if result.error or turn + 1 == len(run.script.turns):
            await self.finish(conversation, stats)
        else:
            ready.append((run, conversation, turn + 1))

    async def measure(self, level: Level, seconds: float, seed: int) -> Dict[str, Any]:
        stats, peaks = LevelStats(), {tree.name: 0.0 for tree in self.target.trees}
        before = {tree.name: tree.cpu_seconds() for tree in self.target.trees}
        client_before = time.process_time()
        sampler = asyncio.create_task(sample_rss(self.target.trees, peaks))
        started = time.perf_counter()
        if level.mode == "closed":
            await self.closed_loop(level.concurrency or 1, seconds, stats)
        else:
            await self.open_loop(level.rate or 1.0, seconds, stats, seed)
        elapsed = time.perf_counter() - started
        sampler.cancel()
        summary = stats.summary(level, elapsed)
        turns = max(1, summary["turns"])
        summary["processes"] = {
            tree.name: {
                "cpu_seconds": round(tree.cpu_seconds() - before[tree.name], 3),
                "cpu_seconds_per_turn": round((tree.cpu_seconds() - before[tree.name]) / turns, 5),
                "rss_mb": round(max(peaks[tree.name], tree.rss_mb()), 1),
            }
            for tree in self.target.trees
        }
        summary["client_cpu_seconds_per_turn"] = round((time.process_time() - client_before) / turns, 5)
        return summary


async def sample_rss(trees: List[ProcessTree], peaks: Dict[str, float]) -> None:
    while True:
        for tree in trees:
            peaks[tree.name] = max(peaks[tree.name], tree.rss_mb())
        await asyncio.sleep(0.5)


# --- warm-up, and a whole target ---------------------------------------------------------------------------------


async def warm_up(player: Player, scripts: List[Script], transports: Tuple[str, ...]) -> List[str]:
    """Each script once over REST (learning how many widget messages each turn gives), then once over the
    widget; returns what went wrong (a turn without a reply is a broken bot or script, not load), stopping
    after REST if anything did."""
    problems: List[str] = []
    for transport in [t for t in TRANSPORTS if t == "rest" or t in transports]:
        for script in scripts:
            counts, problem = await rehearse(player, Run(script, transport))
            problems += [f"{script.name} over {transport}: {problem}"] if problem else []
            if transport == "rest" and not problem:
                player.target.expected[script.name] = counts
        if problems:
            break
    return problems


async def rehearse(player: Player, run: Run) -> Tuple[List[int], Optional[str]]:
    """One run of a script, unmeasured: the widget messages of each turn, and what went wrong if anything."""
    stats = LevelStats()
    started = await player.start(run, stats)
    if started is None:
        return [], "no connection"
    counts, problem = [], None
    for turn, text in enumerate(run.script.turns):
        result = await started[1].say(text, player.expected(run, turn))
        counts.append(widget_messages(result.messages))
        if result.error:
            problem = f"turn {turn + 1} {text!r}: {result.error}"
            break
    await asyncio.sleep(0.3 if run.transport == "socketio" else 0)  # time for a message nobody expected
    await player.finish(started[1], stats)
    if stats.late and not problem:
        problem = f"{stats.late} more widget messages than REST gave"
    return counts, problem


def levels_of(args: argparse.Namespace) -> List[Level]:
    levels = [Level("closed", concurrency=c) for c in args.levels]
    return levels + ([Level("open", rate=args.open_rate)] if args.open_rate else [])


async def drive(target: Target, scripts: List[Script], args: argparse.Namespace) -> Dict[str, Any]:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        player = Player(target, http, args.timeout)
        transports = {run.transport for run in target.runs}
        problems = await warm_up(player, scripts, tuple(transports))
        if problems:
            raise RuntimeError(
                f"{target.name} did not answer its scripts; nothing measured:\n  " + "\n  ".join(problems)
            )
        results = []
        for number, level in enumerate(levels_of(args)):
            print(f"  {target.name}: {level.label} for {args.seconds:g} s...", flush=True)
            results.append(await player.measure(level, args.seconds, args.seed + number))
            await asyncio.sleep(1)  # the servers drain what the level left
    return {
        "scripts": describe(target.runs),
        "identities_added_during_run": target.identities.added if target.identities else 0,
        "levels": results,
    }


def transports_of(choice: str) -> Tuple[str, ...]:
    return TRANSPORTS if choice == "both" else (choice,)


def bench_assistant(args: argparse.Namespace, rasa_port: int, actions_port: int) -> Dict[str, Any]:
    runs = mix(ASSISTANT_SCRIPTS, transports_of(args.transport), args.seed)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as folder:
        url = database_url(args.database, Path(folder))
        fresh_demo_database(url)
        identities = make_identities(url, runs, len(levels_of(args)), args.seconds)
        database = Path(url.split("///", 1)[1]) if url.startswith("sqlite") else None
        servers = start_assistant(rasa_port, actions_port, url, database, extra_env=SERVER_ENV)
        assistant: Assistant = next(servers)
        try:
            trees = [ProcessTree.serving("rasa", rasa_port), ProcessTree.serving("actions", actions_port)]
            target = Target("assistant", assistant.url, trees, runs, identities)
            report = asyncio.run(drive(target, ASSISTANT_SCRIPTS, args))
            report["server_log_problems"] = assistant.log_problems()[:20]
        finally:
            servers.close()
        stopping = [line for line in assistant.log_problems() if line not in report["server_log_problems"]]
        report["server_log_problems_at_stop"] = sorted(set(line[20:] for line in stopping))[:5]  # without the time
    return {"database": args.database, "transport": args.transport, **report}


# --- moodbot ----------------------------------------------------------------------------------------------------


def rasa_version() -> str:
    return importlib.metadata.version("rasa")


def rasa_env() -> Dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


def moodbot_model() -> Path:
    """The trained moodbot of this Rasa version: from the cache, else `rasa init` (which trains) into it."""
    stamp = MOODBOT_CACHE / "rasa-version.txt"
    models = sorted(MOODBOT_CACHE.glob("models/*.tar.gz"))
    if models and stamp.exists() and stamp.read_text().strip() == rasa_version():
        return models[-1]
    print(f"Training Rasa's moodbot (rasa init, Rasa {rasa_version()}, about a minute)...", flush=True)
    with tempfile.TemporaryDirectory(prefix="moodbot-") as folder:
        project = Path(folder) / "moodbot"
        project.mkdir()
        done = subprocess.run(
            [sys.executable, "-m", "rasa", "init", "--no-prompt", "--init-dir", str(project)],
            cwd=folder,
            env=rasa_env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0 or not list(project.glob("models/*.tar.gz")):
            raise RuntimeError(f"rasa init failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        shutil.rmtree(MOODBOT_CACHE, ignore_errors=True)
        shutil.copytree(project, MOODBOT_CACHE, ignore=shutil.ignore_patterns(".rasa"))
    stamp.write_text(rasa_version() + "\n")
    return sorted(MOODBOT_CACHE.glob("models/*.tar.gz"))[-1]


def start_moodbot(model: Path, port: int, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "rasa", "run", "--enable-api", "--model", str(model)]
    command += ["--interface", "127.0.0.1", "--port", str(port), "--credentials", "credentials.yml"]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=MOODBOT_CACHE, env=rasa_env(), stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if _answers(f"http://127.0.0.1:{port}/status"):
            return process
        time.sleep(1)
    stop(process)
    raise RuntimeError(f"moodbot did not start; see {log}")


def _answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone


def bench_moodbot(args: argparse.Namespace, model: Path, port: int) -> Dict[str, Any]:
    log = ROOT / ".run" / "logs" / f"moodbot-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    process = start_moodbot(model, port, log)
    try:
        target = Target("moodbot", f"http://127.0.0.1:{port}", [ProcessTree.serving("rasa", port)], [])
        target.runs = mix(MOODBOT_SCRIPTS, ("rest",), args.seed)
        report = asyncio.run(drive(target, MOODBOT_SCRIPTS, args))
    finally:
        stop(process)
    return {"model": str(model.relative_to(ROOT)), "transport": "rest", **report}


# --- the report -------------------------------------------------------------------------------------------------


def _ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _errors(errors: Dict[str, int]) -> str:
    parts = [f"{errors[kind]} {kind}" for kind in ERROR_KINDS if errors[kind]]
    return f"{errors['total']} ({', '.join(parts)})" if parts else "0"


def table(report: Dict[str, Any]) -> str:
    header = (
        f"{'system':<10} {'load':<12} {'turns':>6} {'msg/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'errors':<8} {'CPU ms/turn rasa':>16} {'actions':>8} {'RSS MB rasa':>12} {'actions':>8}"
    )
    lines = [header, "-" * len(header)]
    for system, result in report["systems"].items():
        for level in result["levels"]:
            latency, processes = level["latency_ms"], level["processes"]
            cpu = {name: _ms(p["cpu_seconds_per_turn"] * 1000) for name, p in processes.items()}
            rss = {name: f"{p['rss_mb']:.0f}" for name, p in processes.items()}
            lines.append(
                f"{system:<10} {level['label']:<12} {level['turns']:>6} {level['messages_per_second']:>7.1f} "
                f"{_ms(latency['p50']):>7} {_ms(latency['p95']):>7} {_ms(latency['p99']):>7} "
                f"{_errors(level['errors']):<8} {cpu['rasa']:>16} {cpu.get('actions', '-'):>8} "
                f"{rss['rasa']:>12} {rss.get('actions', '-'):>8}"
            )
    return "\n".join(lines)


def transport_table(result: Dict[str, Any]) -> str:
    lines = ["assistant by transport (p50 / p95 ms, turns):"]
    for level in result["levels"]:
        parts = [
            f"{name} {_ms(t['p50'])} / {_ms(t['p95'])} ({t['turns']})" for name, t in level["by_transport"].items()
        ]
        connect = level["socketio_connect_ms"]
        extra = f"; socket.io connect p50 {_ms(connect['p50'])}" if connect else ""
        lines.append(f"  {level['label']:<12} " + ", ".join(parts) + extra)
    return "\n".join(lines)


def plot(report: Dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (latency, throughput) = plt.subplots(1, 2, figsize=(12, 4.8))
    notes = []
    for (system, result), color in zip(report["systems"].items(), ("tab:blue", "tab:orange")):
        closed = [level for level in result["levels"] if level["mode"] == "closed" and level["turns"]]
        x = [level["concurrency"] for level in closed]
        latency.plot(x, [lv["latency_ms"]["p50"] for lv in closed], "o-", color=color, label=f"{system} p50")
        latency.plot(x, [lv["latency_ms"]["p95"] for lv in closed], "s--", color=color, label=f"{system} p95")
        throughput.plot(x, [lv["messages_per_second"] for lv in closed], "o-", color=color, label=system)
        for level in result["levels"]:
            if level["mode"] == "open" and level["turns"]:
                lat = level["latency_ms"]
                notes.append(
                    f"{system}, {level['label']}: p50 {_ms(lat['p50'])} ms, p95 {_ms(lat['p95'])} ms, "
                    f"{level['messages_per_second']:.1f} msg/s"
                )
    levels = sorted({lv["concurrency"] for r in report["systems"].values() for lv in r["levels"] if lv["concurrency"]})
    for axis, title, unit in ((latency, "Turn latency", "ms (log)"), (throughput, "Throughput", "messages / s")):
        axis.set_xscale("log")
        axis.set_xticks(levels)
        axis.set_xticklabels([str(level) for level in levels])
        axis.set_xlabel("concurrent conversations (closed loop, no think time)")
        axis.set_ylabel(unit)
        axis.set_title(title)
        axis.grid(True, alpha=0.3)
        axis.legend()
    latency.set_yscale("log")
    throughput.set_ylim(bottom=0)
    figure.suptitle(f"Load: {report['database']} database, {report['transport']} ({report['cpus']} cores)")
    figure.text(0.01, 0.01, "Open loop (Poisson): " + "; ".join(notes) if notes else "", fontsize=8)
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    figure.savefig(path, dpi=110)
    plt.close(figure)


# --- main -------------------------------------------------------------------------------------------------------


def parse(argv: List[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--levels", type=int, nargs="+", help="closed-loop concurrencies (1 5 20 50)")
    parser.add_argument("--seconds", type=float, help="per level (20)")
    parser.add_argument("--open-rate", type=float, help="open-loop messages per second (20; 0: none)")
    parser.add_argument("--transport", choices=["rest", "socketio", "both"], default="both")
    parser.add_argument("--no-moodbot", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="levels 1 2, 3 s each, open rate 2 (for the test)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a turn counts as timed out")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--out", type=Path, help="folder of load.json and load.png (bench/out; --tiny bench/out/tiny)")
    args = parser.parse_args(argv)
    for name, value in (TINY if args.tiny else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.out = args.out or (OUT / "tiny" if args.tiny else OUT)
    return args


def main(argv: List[str]) -> int:
    args = parse(argv)
    rasa_port, actions_port, moodbot_port = PORTS["tiny" if args.tiny else "full"]
    model = None if args.no_moodbot else moodbot_model()  # trained first: nothing else runs meanwhile
    report: Dict[str, Any] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rasa_version": rasa_version(),
        "cpus": os.cpu_count(),
        "database": args.database,
        "transport": args.transport,
        "levels": args.levels,
        "seconds_per_level": args.seconds,
        "open_rate": args.open_rate,
        "systems": {},
    }
    print(f"Assistant on ports {rasa_port}/{actions_port} ({args.database}, {args.transport})...", flush=True)
    report["systems"]["assistant"] = bench_assistant(args, rasa_port, actions_port)
    if model is not None:
        print(f"Moodbot on port {moodbot_port}...", flush=True)
        report["systems"]["moodbot"] = bench_moodbot(args, model, moodbot_port)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    plot(report, args.out / "load.png")
    print(table(report))
    print(transport_table(report["systems"]["assistant"]))
    assistant = report["systems"]["assistant"]
    for problem in assistant["server_log_problems"]:
        print(f"assistant log: {problem}")
    for problem in assistant["server_log_problems_at_stop"]:
        print(f"assistant log while stopping: {problem}")
    print(f"Written: {args.out / 'load.json'}, {args.out / 'load.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
