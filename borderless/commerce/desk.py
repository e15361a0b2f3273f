"""The order desk: one call that answers "where is my order?" from both systems.

It verifies the order with the order system, then asks the logistics system about every parcel
at once. The whole answer has one deadline, so a slow carrier API can never keep a customer
waiting: past it the customer gets an apology instead of silence.
"""

from __future__ import annotations

import asyncio

from borderless.commerce.errors import BackendError, BackendUnavailable, TrackingNotFound
from borderless.commerce.models import OrderLookup, OrderReport, Tracking
from borderless.commerce.protocols import LogisticsSystem, OrderSystem


class OrderDesk:
    def __init__(self, orders: OrderSystem, logistics: LogisticsSystem, deadline: float) -> None:
        self.orders = orders
        self.logistics = logistics
        self.deadline = deadline

    async def report(self, lookup: OrderLookup) -> OrderReport:
        """The verified order with live tracking; ``OrderNotFound`` or ``BackendError``."""
        try:
            return await asyncio.wait_for(self._report(lookup), timeout=self.deadline)
        except asyncio.TimeoutError as error:
            raise BackendUnavailable("order desk deadline exceeded", system="desk") from error

    async def _report(self, lookup: OrderLookup) -> OrderReport:
        order = await self.orders.find_verified(lookup)
        trackings = await asyncio.gather(
            *(self._track(s.carrier, s.tracking_number) for s in order.shipments)
        )
        return OrderReport(order=order, trackings=tuple(t for t in trackings if t is not None))

    async def _track(self, carrier: str, tracking_number: str) -> Tracking | None:
        """A parcel the carrier does not know yet, or cannot tell us about, is not an error."""
        try:
            return await self.logistics.track(carrier, tracking_number)
        except (TrackingNotFound, BackendError):
            return None

    async def close(self) -> None:
        await self.orders.close()
        if self.logistics is not self.orders:
            await self.logistics.close()
