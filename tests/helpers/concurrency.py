"""Races that really happen: N threads released at once by a barrier."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Tuple


def run_at_once(work: Callable[[int], Any], count: int) -> Tuple[List[Any], List[BaseException]]:
    """Runs `work(index)` on `count` threads that all start together; what they returned, and what they raised."""
    barrier = threading.Barrier(count)
    results: List[Any] = []
    errors: List[BaseException] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        barrier.wait()
        try:
            result = work(index)
        except Exception as error:  # noqa: BLE001 - the test reports it
            with lock:
                errors.append(error)
        else:
            with lock:
                results.append(result)

    threads = [threading.Thread(target=one, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def run_coroutine(coroutine: Any) -> Any:
    """asyncio.run on a thread of its own: another test may have left an event loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
