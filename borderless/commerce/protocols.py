"""The two interfaces every commerce adapter implements.

Actions depend on these protocols only; the reference shop, Shopify and WooCommerce implement
``OrderSystem``; the reference shop, AfterShip and 17TRACK implement ``LogisticsSystem``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from borderless.commerce.models import (
    Order,
    OrderLookup,
    ReturnLine,
    ReturnRequest,
    Tracking,
)


@runtime_checkable
class OrderSystem(Protocol):
    async def find_verified(self, lookup: OrderLookup) -> Order:
        """The order with ``lookup.number`` if, and only if, the email or phone matches.

        Raises ``OrderNotFound`` for an unknown number and for a wrong contact alike, and
        ``BackendError`` when the system cannot answer.
        """
        ...

    # Changes a customer asks for. Each re-verifies ``lookup`` like ``find_verified`` (same
    # ``OrderNotFound``) and raises ``ChangeRefused`` with a code when the system refuses.
    async def list_returns(self, lookup: OrderLookup) -> tuple[ReturnRequest, ...]:
        """Returns and refunds of the order, oldest first."""
        ...

    async def create_return(
        self, lookup: OrderLookup, lines: Sequence[ReturnLine], reason: str, note: str | None
    ) -> ReturnRequest:
        """Record a return request for ``lines``; the return policy was applied before."""
        ...

    async def cancel_order(self, lookup: OrderLookup) -> Order:
        """Cancel an order that has not shipped (``ChangeRefused('already_fulfilled')``)."""
        ...

    async def change_shipping_address(self, lookup: OrderLookup, address: str) -> Order:
        """Replace the delivery address of an order that has not shipped, stored as given."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class LogisticsSystem(Protocol):
    async def track(self, carrier: str, tracking_number: str) -> Tracking:
        """Live tracking of one parcel. Raises ``TrackingNotFound`` or ``BackendError``."""
        ...

    async def close(self) -> None: ...
