"""Adapter for the reference shop (``borderless.store``): orders and tracking over its HTTP API.

The assistant's default backend, so it follows the rules every adapter follows: no I/O at import
or construction (rasa-sdk imports every action module at start-up), one overall time budget per
call so a hung shop can never hold a conversation turn hostage, and only exceptions from
``borderless.commerce.errors`` leave this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    ChangeRefused,
    OrderNotFound,
    TrackingNotFound,
)
from borderless.commerce.http import JsonHttpClient
from borderless.commerce.models import (
    Order,
    OrderLookup,
    ReturnLine,
    ReturnRequest,
    Tracking,
    order_from_dict,
    return_from_dict,
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
        self.http = JsonHttpClient(
            base_url,
            system=SYSTEM,
            headers={"Authorization": f"Bearer {api_token}"},
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            session=session,
        )

    async def find_verified(self, lookup: OrderLookup) -> Order:
        payload = {"number": lookup.number, "email": lookup.email, "phone": lookup.phone}
        answer = await self.http.call(
            "POST", "/api/orders/lookup", {k: v for k, v in payload.items() if v}
        )
        if answer.status == 404 and _error_code(answer.body) == "order_not_found":
            raise OrderNotFound(lookup.number)
        _raise_for_status(answer.status, answer.body)
        try:
            return order_from_dict(answer.body["order"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed order from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def list_returns(self, lookup: OrderLookup) -> tuple[ReturnRequest, ...]:
        body = await self._change("/api/returns/lookup", lookup, {})
        try:
            return tuple(return_from_dict(r) for r in body["returns"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed returns from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def create_return(
        self, lookup: OrderLookup, lines: Sequence[ReturnLine], reason: str, note: str | None
    ) -> ReturnRequest:
        extra = {
            "items": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
            "reason": reason,
            "note": note,
        }
        body = await self._change("/api/returns", lookup, extra)
        try:
            return return_from_dict(body["return"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed return from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def cancel_order(self, lookup: OrderLookup) -> Order:
        return self._order(await self._change("/api/orders/cancel", lookup, {}))

    async def change_shipping_address(self, lookup: OrderLookup, address: str) -> Order:
        body = await self._change("/api/orders/shipping-address", lookup, {"address": address})
        return self._order(body)

    async def _change(self, path: str, lookup: OrderLookup, extra: dict[str, Any]) -> Any:
        """One verified change. Sent once: a retried POST could record a return twice."""
        payload = {"number": lookup.number, "email": lookup.email, "phone": lookup.phone}
        payload = {k: v for k, v in payload.items() if v}
        answer = await self.http.call("POST", path, {**payload, **extra}, attempts=1)
        if answer.status == 404 and _error_code(answer.body) == "order_not_found":
            raise OrderNotFound(lookup.number)
        if answer.status == 409:
            raise ChangeRefused(_error_code(answer.body) or "refused")
        _raise_for_status(answer.status, answer.body)
        return answer.body

    @staticmethod
    def _order(body: Any) -> Order:
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
        answer = await self.http.call("GET", path)
        if answer.status == 404 and _error_code(answer.body) == "tracking_not_found":
            raise TrackingNotFound(f"{carrier} {tracking_number}")
        _raise_for_status(answer.status, answer.body)
        try:
            return tracking_from_dict(answer.body["tracking"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise BackendUnavailable(
                f"malformed tracking from the shop: {exc!r}", system=SYSTEM
            ) from exc

    async def close(self) -> None:
        await self.http.close()


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
