"""Keys that expire, shared by every replica: "was this seen/claimed already?" for the messengers' delivery ids and
the client message ids of REST and the widget.

With REDIS_URL the keys live in Redis (SET NX with an expiry: one atomic operation, so two replicas never both
take a key); without it, or while Redis is unreachable, this process keeps them (bounded, oldest dropped first).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Dict, Optional
from weakref import WeakKeyDictionary

from redis import asyncio as aioredis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_clients: Dict[str, WeakKeyDictionary[asyncio.AbstractEventLoop, Any]] = {}


def redis_client(url: str) -> Any:
    """One asyncio Redis client per URL and event loop (a client's connections belong to the loop that made them)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(url, WeakKeyDictionary())
    if loop not in per_loop:
        per_loop[loop] = aioredis.from_url(url)
    return per_loop[loop]


class SharedKeys:
    """`add` takes a key for `seconds` unless somebody holds it; `put` (re)sets it whoever holds it."""

    def __init__(self, namespace: str, redis_url: Optional[str] = None, max_entries: int = 100_000) -> None:
        self.namespace, self.max_entries = namespace, max_entries
        self.redis_url = redis_url
        self._memory: OrderedDict[str, float] = OrderedDict()  # key -> monotonic expiry
        self._lock = threading.Lock()

    async def add(self, key: str, seconds: float) -> bool:
        """True for the first taker of `key` until it expires."""
        if self.redis_url:
            try:
                return bool(
                    await redis_client(self.redis_url).set(self._name(key), 1, nx=True, ex=max(1, int(seconds)))
                )
            except RedisError as error:
                self._warn(error)
        return self._add_here(key, seconds, only_new=True)

    async def put(self, key: str, seconds: float) -> None:
        if self.redis_url:
            try:
                await redis_client(self.redis_url).set(self._name(key), 1, ex=max(1, int(seconds)))
                return
            except RedisError as error:
                self._warn(error)
        self._add_here(key, seconds, only_new=False)

    def _name(self, key: str) -> str:
        return f"assistant:{self.namespace}:{key}"

    def _warn(self, error: Exception) -> None:
        logger.warning("%s: Redis unavailable (%s), this process decides alone", self.namespace, type(error).__name__)

    def _add_here(self, key: str, seconds: float, only_new: bool) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._memory and (len(self._memory) >= self.max_entries or next(iter(self._memory.values())) < now):
                self._memory.popitem(last=False)  # the oldest first; a key expired further on is checked below
            if only_new and self._memory.get(key, 0.0) > now:
                return False
            self._memory.pop(key, None)
            self._memory[key] = now + seconds
            return True
