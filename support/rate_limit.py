"""Token buckets that keep one sender (a conversation, a client address) from flooding the assistant.

A bucket holds up to `per_minute` tokens and refills at `per_minute` tokens a minute; each message takes
one, and a message that finds the bucket empty is refused. With REDIS_URL the buckets live in Redis (one
atomic script), so that every replica counts together; without it each process counts on its own.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Dict, Optional, Protocol, Tuple

import redis

from support.settings import environment

# KEYS[1] the bucket; ARGV: capacity, refill per second, now (seconds). Returns 1 when a token was taken.
_TAKE = """
local tokens, stamp = unpack(redis.call('HMGET', KEYS[1], 'tokens', 'stamp'))
local capacity, rate, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
tokens = math.min(capacity, (tonumber(tokens) or capacity) + (now - (tonumber(stamp) or now)) * rate)
local taken = 0
if tokens >= 1 then tokens = tokens - 1; taken = 1 end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'stamp', now)
redis.call('EXPIRE', KEYS[1], math.ceil(capacity / rate) + 1)
return taken
"""


class Buckets(Protocol):
    def take(self, key: str, per_minute: int) -> bool: ...


class MemoryBuckets:
    """One process's buckets (the embedded default)."""

    def __init__(self) -> None:
        self._buckets: Dict[str, Tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str, per_minute: int) -> bool:
        now, rate = time.monotonic(), per_minute / 60
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - stamp) * rate)
            taken = tokens >= 1
            self._buckets[key] = (tokens - 1 if taken else tokens, now)
            if len(self._buckets) > 100_000:  # forget the oldest senders rather than grow without end
                for old in list(self._buckets)[:10_000]:
                    del self._buckets[old]
            return taken


class RedisBuckets:
    """Buckets shared by every replica, in Redis."""

    def __init__(self, url: str) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._take = self._client.register_script(_TAKE)

    def take(self, key: str, per_minute: int) -> bool:
        try:
            return bool(self._take(keys=[f"assistant:rate:{key}"], args=[per_minute, per_minute / 60, time.time()]))
        except redis.RedisError:
            return True  # Redis down: answering matters more than counting


@functools.lru_cache(maxsize=4)
def _buckets(redis_url: Optional[str]) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else MemoryBuckets()


def allowed(conversation_id: str, client: Optional[str]) -> bool:
    """Takes a token from the conversation's bucket and the client's; False when either is empty."""
    env = environment()
    buckets = _buckets(env.redis_url)
    if not buckets.take(f"conversation:{conversation_id}", env.rate_limit_conversation):
        return False
    return client is None or buckets.take(f"client:{client}", env.rate_limit_client)
