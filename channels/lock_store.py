"""Rasa's lock store for several replicas, on one atomic Redis operation.

Rasa's own RedisLockStore keeps a conversation's ticket queue as one JSON value that each replica reads,
changes and writes back: two replicas taking a ticket at the same instant overwrite each other
(RasaHQ/rasa#9213; the fix in #11256 was reverted in #11428). tests/e2e/test_cluster.py sends one
conversation's messages to two replicas at once: with Rasa's store, turns were lost (14 of 16 kept).

Here a conversation's lock is one Redis key taken with `SET key token NX PX` (atomic: one holder), kept alive
by its holder while the turn runs, and deleted only by its holder (compare-and-delete in Lua). A replica that
dies stops refreshing it: its lock expires after HOLD_SECONDS and the conversation goes on elsewhere.
endpoints.yml: `lock_store: {type: channels.lock_store.AtomicRedisLockStore, url, port, db, password, ...}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis import asyncio as aioredis

logger = logging.getLogger(__name__)

HOLD_SECONDS = 15  # a lock not refreshed for this long belongs to a replica that died
REFRESH_SECONDS = 5
POLL_SECONDS = 0.02
RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"
REFRESH = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)


class AtomicRedisLockStore(LockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        settings = endpoint_config.kwargs
        self.prefix = f"{settings.get('key_prefix') or 'assistant'}:conversation-lock:"
        self.redis = aioredis.Redis(
            host=endpoint_config.url or "localhost",
            port=int(settings.get("port") or 6379),
            db=int(settings.get("db") or 0),
            password=settings.get("password"),
            ssl=bool(settings.get("use_ssl")),
        )
        super().__init__()

    @asynccontextmanager
    async def lock(
        self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncGenerator[TicketLock, None]:
        """Waits (at most `lock_lifetime` seconds) until this replica holds the conversation, then yields."""
        key, token = self.prefix + conversation_id, uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lock_lifetime
        while not await self.redis.set(key, token, nx=True, px=HOLD_SECONDS * 1000):
            if loop.time() > deadline:
                raise LockError(f"conversation {conversation_id} stayed locked for {lock_lifetime} s")
            await asyncio.sleep(POLL_SECONDS)
        keeper = asyncio.create_task(self._keep(key, token))
        try:
            yield TicketLock(conversation_id)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self.redis.eval(RELEASE, 1, key, token)

    async def _keep(self, key: str, token: str) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            await self.redis.eval(REFRESH, 1, key, token, HOLD_SECONDS * 1000)

    # Rasa's ticket bookkeeping is not used: lock() above replaces it.
    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: Any) -> None:
        return None
