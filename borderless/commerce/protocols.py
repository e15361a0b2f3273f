"""The two interfaces every commerce adapter implements.

Actions depend on these protocols only; the reference shop, Shopify and WooCommerce implement
``OrderSystem``; the reference shop, AfterShip and 17TRACK implement ``LogisticsSystem``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from borderless.commerce.models import Order, OrderLookup, Tracking


@runtime_checkable
class OrderSystem(Protocol):
    async def find_verified(self, lookup: OrderLookup) -> Order:
        """The order with ``lookup.number`` if, and only if, the email or phone matches.

        Raises ``OrderNotFound`` for an unknown number and for a wrong contact alike, and
        ``BackendError`` when the system cannot answer.
        """
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LogisticsSystem(Protocol):
    async def track(self, carrier: str, tracking_number: str) -> Tracking:
        """Live tracking of one parcel. Raises ``TrackingNotFound`` or ``BackendError``."""
        ...

    async def close(self) -> None: ...
