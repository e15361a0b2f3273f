"""The HTTP client every commerce adapter shares: one time budget, retries, rate limit, cache.

A customer is waiting on every call, so a call has one overall deadline (retries included):
a 5xx, 429 or dropped connection is retried after a backoff (``Retry-After`` honoured) only if
that still fits. A token bucket keeps us under the vendor's documented rate (Shopify, AfterShip,
17TRACK all answer 429 beyond it), and a small TTL cache spares the vendor (and the customer)
the same look-up twice in a conversation. No I/O happens at construction.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from borderless.commerce.errors import BackendError, BackendUnavailable, RateLimited


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # decoded JSON, or None when the body was empty or not JSON
    headers: dict[str, str]


class RateLimiter:
    """Token bucket: at most ``rate`` calls per second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int | None = None) -> None:
        self.rate = rate
        self.capacity = float(burst or max(1, int(rate)))
        self._tokens = self.capacity
        self._updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, deadline: float) -> None:
        """Wait for a token; ``RateLimited`` if none comes before ``deadline`` (monotonic)."""
        async with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                if now + wait >= deadline:
                    raise RateLimited("our own rate limit for this system is exhausted")
                await asyncio.sleep(wait)
                self._tokens, self._updated = 1.0, time.monotonic()
            self._tokens -= 1


class TtlCache:
    """A small LRU of answers that expire after ``ttl`` seconds."""

    def __init__(self, ttl: float, size: int = 512) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any) -> Any | None:
        item = self._items.get(key)
        if item is None or item[0] < time.monotonic():
            self._items.pop(key, None)
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: Any, value: Any) -> None:
        self._items[key] = (time.monotonic() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything, e.g. after a change made the cached answers stale."""
        self._items.clear()


class JsonHttpClient:
    """JSON over HTTP for one vendor: ``call()`` returns the first usable ``Answer``.

    Statuses below 500 other than 429 are returned to the adapter, which knows what a 404 or a
    vendor error body means; timeouts, connection errors, 5xx and 429 after the budget raise
    ``BackendUnavailable`` / ``RateLimited`` tagged with ``system``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        system: str,
        headers: dict[str, str] | None = None,
        timeout: float = 2.5,
        attempts: int = 2,
        backoff: float = 0.2,
        rate_limit: RateLimiter | None = None,
        session: aiohttp.ClientSession | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.system = system
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.rate_limit = rate_limit
        self.auth = auth
        self._session = session
        self._owns_session = session is None

    async def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        params: dict[str, str] | None = None,
        *,
        attempts: int | None = None,
    ) -> Answer:
        """``attempts=1`` for a request that must not be repeated (it changes something)."""
        loop = asyncio.get_running_loop()
        attempts = self.attempts if attempts is None else max(1, attempts)
        deadline = loop.time() + self.timeout
        url = URL(self.base_url + path, encoded=True)
        if params:
            url = url.update_query(params)
        error: BackendError = BackendUnavailable("no attempt made", system=self.system)
        for attempt in range(1, attempts + 1):
            delay = self.backoff * attempt
            try:
                if self.rate_limit is not None:
                    await self.rate_limit.acquire(time.monotonic() + deadline - loop.time())
                answer = await asyncio.wait_for(
                    self._send(method, url, payload), max(0.0, deadline - loop.time())
                )
            except asyncio.TimeoutError:
                raise BackendUnavailable(
                    f"{self.system} did not answer within {self.timeout:g}s", system=self.system
                ) from None
            except RateLimited as exc:
                raise RateLimited(str(exc), system=self.system) from None
            except aiohttp.ClientError as exc:
                error = BackendUnavailable(f"cannot reach {self.system}: {exc}", system=self.system)
            else:
                if answer.status == 429:
                    error = RateLimited(
                        f"{self.system} rate-limited us", system=self.system, status=429
                    )
                    retry_after = _seconds(answer.headers.get("Retry-After"))
                    delay = retry_after if retry_after is not None else delay
                elif answer.status >= 500:
                    error = BackendUnavailable(
                        f"{self.system} failed with HTTP {answer.status}",
                        system=self.system,
                        status=answer.status,
                    )
                else:
                    return answer
            if attempt == attempts or loop.time() + delay >= deadline:
                raise error
            await asyncio.sleep(delay)
        raise error  # unreachable: the loop always returns or raises

    async def _send(self, method: str, url: URL, payload: Any) -> Answer:
        session = self._get_session()
        async with session.request(
            method, url, json=payload, headers=self.headers, auth=self.auth
        ) as response:
            raw = await response.read()
            try:
                body = json.loads(raw) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                body = None
            return Answer(response.status, body, dict(response.headers))

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date; not worth parsing for a budget of seconds
        return None
