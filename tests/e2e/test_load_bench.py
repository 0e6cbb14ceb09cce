"""`make bench-load` at its smallest: `python -m bench.load_bench --tiny` (both servers on ports 15017/15067,
moodbot on 15018; levels 1 and 2 and an open loop of 2 messages a second, a few seconds each, REST and socket.io)
run once in a subprocess. The report must be complete and sane; no latency is asserted (not a timed test)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = {"assistant": ("rasa", "actions"), "moodbot": ("rasa",)}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Tuple[Dict[str, Any], Path, str]:
    out = tmp_path_factory.mktemp("load")
    done = subprocess.run(
        [sys.executable, "-m", "bench.load_bench", "--tiny", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return json.loads((out / "load.json").read_text(encoding="utf-8")), out, done.stdout


@pytest.fixture(scope="module")
def report(run) -> Dict[str, Any]:
    return run[0]


def levels(report: Dict[str, Any]) -> Iterator[Tuple[str, Dict[str, Any]]]:
    for system in SYSTEMS:
        for level in report["systems"][system]["levels"]:
            yield system, level


def test_both_systems_ran_every_level(report) -> None:
    assert set(report["systems"]) == set(SYSTEMS)
    for system in SYSTEMS:
        labels = [level["label"] for level in report["systems"][system]["levels"]]
        assert labels == ["1 conv", "2 conv", "open 2/s"], (system, labels)


def test_every_level_has_turns_and_no_errors(report) -> None:
    for system, level in levels(report):
        assert level["turns"] > 0 and level["conversations"] > 0, (system, level["label"])
        assert level["messages_per_second"] > 0, (system, level["label"])
        assert level["errors"] == {"http": 0, "timeout": 0, "empty": 0, "total": 0}, (system, level)
        assert level["socketio_late_messages"] == 0, (system, level["label"])  # each turn's replies, no more


def test_latencies_are_positive_and_ordered(report) -> None:
    for system, level in levels(report):
        latency = level["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"], (system, latency)
        for transport, figures in level["by_transport"].items():
            assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"], (system, transport, figures)


def test_cpu_and_memory_of_each_process(report) -> None:
    for system, names in SYSTEMS.items():
        for level in report["systems"][system]["levels"]:
            assert set(level["processes"]) == set(names), (system, level["processes"])
            for name, figures in level["processes"].items():
                assert figures["cpu_seconds_per_turn"] >= 0 and figures["rss_mb"] > 50, (system, name, figures)
        for name in names:  # each server did work for the turns (CPU time has a 10 ms resolution)
            assert sum(lv["processes"][name]["cpu_seconds"] for lv in report["systems"][system]["levels"]) > 0


def test_the_mix_covers_both_languages_transports_and_identities(report) -> None:
    scripts = report["systems"]["assistant"]["scripts"]
    assert set(scripts["language"]) == {"en", "fr"} and set(scripts["transport"]) == {"rest", "socketio"}
    assert set(scripts["identity"]) == {"anonymous", "signed_in"}
    assert {"status", "renewal", "cancellation", "handoff"} <= set(scripts["kind"])
    played = {t for _, lv in levels(report) for t in lv["by_transport"]}
    assert played == {"rest", "socketio"}
    assert report["systems"]["moodbot"]["scripts"]["transport"] == {
        "rest": report["systems"]["moodbot"]["scripts"]["runs"]
    }


def test_the_server_logs_are_clean(report) -> None:
    assert report["systems"]["assistant"]["server_log_problems"] == []


def test_the_chart_and_the_table(run) -> None:
    _, out, stdout = run
    png = out / "load.png"
    assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert "p50 ms" in stdout and "moodbot" in stdout and "assistant" in stdout
