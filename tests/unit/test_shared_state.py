"""What replicas share in Redis (the machine's, database 7): keys taken once (delivery and message ids), the
conversation lock and the rate limits; and the same keys in one process's memory when there is no Redis."""

from __future__ import annotations

import asyncio
import time
from typing import List

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from channels import lock_store
from channels.lock_store import AtomicRedisLockStore
from channels.shared_keys import SharedKeys
from support.rate_limit import MemoryBuckets, RedisBuckets
from tests.helpers.concurrency import run_coroutine as run

REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture(autouse=True)
def empty_redis() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


def test_a_key_in_memory_is_taken_once_until_it_expires() -> None:
    keys = SharedKeys("test", max_entries=3)

    async def scenario() -> List[bool]:
        first = [await keys.add("a", 0.2), await keys.add("a", 0.2)]
        await asyncio.sleep(0.25)
        return first + [await keys.add("a", 60)]

    assert run(scenario()) == [True, False, True]
    for key in "bcd":
        assert run(keys.add(key, 60))
    assert run(keys.add("a", 60))  # the oldest was dropped to keep three


@pytest.mark.parametrize("stores", [1, 2], ids=["one replica", "two replicas"])
def test_a_key_in_redis_is_taken_by_exactly_one_of_many_at_once(stores: int) -> None:
    async def scenario() -> List[bool]:
        replicas = [SharedKeys(f"test-{n}", REDIS_URL) for n in range(stores)]
        for replica in replicas:
            replica.namespace = "test"  # the same namespace, as every replica of one deployment has
        return await asyncio.gather(*(replicas[n % stores].add("delivery-1", 60) for n in range(20)))

    assert sorted(run(scenario())) == [False] * 19 + [True]


def test_put_keeps_a_key_longer_whoever_took_it() -> None:
    async def scenario() -> List[bool]:
        keys = SharedKeys("test", REDIS_URL)
        taken = await keys.add("m1", 1)
        await keys.put("m1", 60)
        await asyncio.sleep(1.2)
        return [taken, await keys.add("m1", 60)]

    assert run(scenario()) == [True, False]


def _store() -> AtomicRedisLockStore:
    return AtomicRedisLockStore(EndpointConfig(url="127.0.0.1", port=6379, db=7))


def test_one_conversations_turns_on_two_replicas_never_overlap() -> None:
    inside: List[int] = []
    overlaps: List[int] = []

    async def turn(store: AtomicRedisLockStore, n: int) -> None:
        async with store.lock("conversation-1", lock_lifetime=30):
            inside.append(n)
            if len(inside) > 1:
                overlaps.append(n)
            await asyncio.sleep(0.01)
            inside.remove(n)

    async def scenario() -> None:
        first, second = _store(), _store()
        await asyncio.gather(*(turn(first if n % 2 else second, n) for n in range(30)))

    run(scenario())
    assert overlaps == [] and inside == []


def test_a_dead_replicas_lock_expires_and_the_conversation_goes_on(monkeypatch) -> None:
    monkeypatch.setattr(lock_store, "HOLD_SECONDS", 1)
    redis.Redis.from_url(REDIS_URL).set("assistant:conversation-lock:conversation-2", "dead-replica", px=1000)

    async def scenario() -> float:
        started = time.monotonic()
        async with _store().lock("conversation-2", lock_lifetime=10):
            return time.monotonic() - started

    assert 0.5 < run(scenario()) < 3


def test_two_replicas_count_one_conversations_messages_together() -> None:
    first, second = RedisBuckets(REDIS_URL), RedisBuckets(REDIS_URL)
    taken = [(first if n % 2 else second).take("conversation:c1", 20) for n in range(21)]
    assert taken == [True] * 20 + [False]  # 20 a minute in all, not 20 per replica
    assert MemoryBuckets().take("conversation:c1", 20)  # a process of its own would have let it through


def test_a_redis_that_does_not_answer_lets_messages_through() -> None:
    assert RedisBuckets("redis://127.0.0.1:1/0").take("conversation:c2", 1)  # answering matters more
