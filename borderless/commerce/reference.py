"""Adapter for the reference shop (``borderless.store``): orders and tracking over its HTTP API.

The assistant's default backend, so it follows the rules every adapter follows: no I/O at import
or construction (rasa-sdk imports every action module at start-up), one overall time budget per
call so a hung shop can never hold a conversation turn hostage, and only exceptions from
``borderless.commerce.errors`` leave this module.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

from borderless.commerce.errors import (
    BackendError,
    BackendRejected,
    BackendUnavailable,
    OrderNotFound,
    RateLimited,
    TrackingNotFound,
)
from borderless.commerce.models import (
    Order,
    OrderLookup,
    Tracking,
    order_from_dict,
    tracking_from_dict,
)

SYSTEM = "reference"


class ReferenceShop:
    """``OrderSystem`` and ``LogisticsSystem`` backed by the reference shop service.

    ``timeout`` bounds the whole call, retry included: a 5xx, 429 or dropped connection is tried
    once more after ``backoff`` seconds, but only if that still fits in the budget.
    Pass ``session`` to share a connection pool (or to inject a test transport); a session passed
    in is left open by ``close()``, one created here is closed.
    """

    def __init__(
        self,
        base_url: str,
        api_token: str,
        timeout: float = 2.5,
        session: aiohttp.ClientSession | None = None,
        *,
        backoff: float = 0.2,
        attempts: int = 2,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.backoff = backoff
        self.attempts = max(1, attempts)
        self._headers = {"Authorization": f"Bearer {api_token}", "Accept": "application/json"}
        self._session = session
        self._owns_session = session is None

    async def find_verified(self, lookup: OrderLookup) -> Order:
        payload = {"number": lookup.number, "email": lookup.email, "phone": lookup.phone}
        status, body = await self._call(
            "POST", "/api/orders/lookup", {k: v for k, v in payload.items() if v}
        )
        if status == 404 and _error_code(body) == "order_not_found":
            raise OrderNotFound(lookup.number)
        _raise_for_status(status, body)
        try:
            return order_from_dict(body["order"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed order from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def track(self, carrier: str, tracking_number: str) -> Tracking:
        if not carrier.strip() or not tracking_number.strip():
            raise TrackingNotFound(f"{carrier} {tracking_number}")
        path = f"/api/tracking/{quote(carrier.strip(), safe='')}/"
        path += quote(tracking_number.strip(), safe="")
        status, body = await self._call("GET", path)
        if status == 404 and _error_code(body) == "tracking_not_found":
            raise TrackingNotFound(f"{carrier} {tracking_number}")
        _raise_for_status(status, body)
        try:
            return tracking_from_dict(body["tracking"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed tracking from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(
        self, method: str, path: str, payload: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Status and decoded JSON body (``None`` if not JSON) of the first usable answer."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        url = URL(self.base_url + path, encoded=True)
        error: BackendError = BackendUnavailable("no attempt made", system=SYSTEM)
        for attempt in range(1, self.attempts + 1):
            delay = self.backoff
            try:
                status, body, retry_after = await asyncio.wait_for(
                    self._send(method, url, payload), max(0.0, deadline - loop.time())
                )
            except asyncio.TimeoutError:
                raise BackendUnavailable(
                    f"the reference shop did not answer within {self.timeout:g}s", system=SYSTEM
                ) from None
            except aiohttp.ClientError as exc:
                error = BackendUnavailable(f"cannot reach the reference shop: {exc}", system=SYSTEM)
            else:
                if status == 429:
                    error = RateLimited(
                        "the reference shop rate-limited us", system=SYSTEM, status=status
                    )
                    delay = retry_after if retry_after is not None else self.backoff
                elif status >= 500:
                    error = BackendUnavailable(
                        f"the reference shop failed with HTTP {status}",
                        system=SYSTEM,
                        status=status,
                    )
                else:
                    return status, body
            if attempt == self.attempts or loop.time() + delay >= deadline:
                raise error
            await asyncio.sleep(delay)
        raise error  # unreachable: the loop always returns or raises

    async def _send(
        self, method: str, url: URL, payload: dict[str, Any] | None
    ) -> tuple[int, Any, float | None]:
        session = self._get_session()
        async with session.request(method, url, json=payload, headers=self._headers) as response:
            raw = await response.read()
            retry_after = _seconds(response.headers.get("Retry-After"))
            try:
                body = json.loads(raw) if raw else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                body = None
            return response.status, body, retry_after

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session


def _raise_for_status(status: int, body: Any) -> None:
    if 200 <= status < 300:
        if not isinstance(body, dict):
            raise BackendUnavailable(
                "the reference shop answered without a JSON object", system=SYSTEM, status=status
            )
        return
    if status in (401, 403):
        raise BackendRejected(
            "the reference shop rejected our API token", system=SYSTEM, status=status
        )
    # Includes a 404 without our own error code: a wrong base URL, not a missing order, and
    # telling every customer "no such order" would hide the misconfiguration.
    detail = _error_code(body) or f"HTTP {status}"
    raise BackendRejected(
        f"the reference shop refused the request: {detail}", system=SYSTEM, status=status
    )


def _error_code(body: Any) -> str | None:
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return str(body["error"])
    return None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date; not worth parsing for a one-retry budget
        return None
