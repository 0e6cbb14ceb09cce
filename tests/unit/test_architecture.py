"""The architecture holds: the core imports no edge and no Rasa, the edges never import each other, the
core has no import cycle, and each process loads only what it runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable

import grimp
import pytest
from sqlalchemy import create_engine

from support.db.engine import BlockingCallOnEventLoop, session_scope
from support.settings import ROOT
from tests.helpers.domain import load_domain


def test_import_contracts_are_kept() -> None:
    """import-linter's contracts of pyproject.toml (the core imports no edge; edges are independent)."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout


def test_the_core_has_no_import_cycle() -> None:
    graph = grimp.build_graph("support")
    cycles = [
        (a, b)
        for a in graph.modules
        for b in graph.find_modules_directly_imported_by(a)
        if b.startswith("support") and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == [], f"import cycles in support/: {cycles}"


LOADED = """
import json, sys
from rasa_sdk.executor import ActionExecutor
executor = ActionExecutor()
executor.register_package("actions")
print(json.dumps({"actions": sorted(executor.actions), "modules": sorted(sys.modules)}))
"""


def test_the_action_server_registers_exactly_the_domain_actions_and_loads_no_tooling() -> None:
    result = subprocess.run([sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    domain = load_domain()
    custom = sorted(name for name in domain["actions"] if name.startswith("action_"))
    assert loaded["actions"] == custom  # no "action_" from an abstract base class, none missing
    modules = set(loaded["modules"])
    assert not {"stripe", "support.demo_data", "support.cli", "channels", "components"} & modules


def _on_its_own_loop(work: Callable[[], Awaitable[Any]]) -> Any:
    """asyncio.run on a thread of its own (a browser test may have left a loop on the main thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(work())).result()


def test_a_transaction_on_a_running_event_loop_is_refused_in_the_rasa_server(monkeypatch) -> None:
    monkeypatch.setenv("REFUSE_DB_ON_EVENT_LOOP", "1")

    async def handler() -> None:
        with session_scope():
            pass

    with pytest.raises(BlockingCallOnEventLoop):
        _on_its_own_loop(handler)

    async def in_a_thread() -> int:  # the way channels reach the database
        def work() -> int:
            with session_scope(create_engine("sqlite://", future=True)) as session:
                return session.connection().exec_driver_sql("SELECT 1").scalar_one()

        return await asyncio.to_thread(work)

    assert _on_its_own_loop(in_a_thread) == 1
