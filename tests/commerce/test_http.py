"""The shared adapter HTTP client: rate limit, cache, budget."""

from __future__ import annotations

import asyncio
import time

import pytest

from borderless.commerce.errors import RateLimited
from borderless.commerce.http import RateLimiter, TtlCache


async def test_rate_limiter_spaces_calls_beyond_the_burst() -> None:
    limiter = RateLimiter(rate=20, burst=2)
    started = time.monotonic()
    for _ in range(4):
        await limiter.acquire(time.monotonic() + 5)
    assert time.monotonic() - started >= 0.09  # two calls waited ~50 ms each


async def test_rate_limiter_gives_up_at_the_deadline() -> None:
    limiter = RateLimiter(rate=1, burst=1)
    await limiter.acquire(time.monotonic() + 5)
    with pytest.raises(RateLimited):
        await limiter.acquire(time.monotonic() + 0.1)


async def test_cache_expires_and_evicts() -> None:
    cache = TtlCache(ttl=0.05, size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None and cache.get("c") == 3
    await asyncio.sleep(0.06)
    assert cache.get("c") is None
