"""After-sales desk: returns, refund status, cancellation and address changes for one order.

What the actions call for every change a customer asks for. Each method verifies the order
(number plus email or phone, the same rule as "where is my order?"), applies the shop's rules
that no order system knows (the per-market return policy in ``returns.py``; "only before it
ships" for cancellations and address changes), then asks the ``OrderSystem`` to do it. Every
call has one deadline, like the order desk, so a slow shop never leaves a customer waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeVar

from borderless.commerce.errors import BackendUnavailable, ChangeRefused
from borderless.commerce.models import Order, OrderLookup, ReturnLine, ReturnRequest
from borderless.commerce.protocols import OrderSystem
from borderless.commerce.returns import Eligibility, Market, ReturnPolicy, Verdict, eligibility

T = TypeVar("T")

# What a customer may pick as the reason; anything typed freely is kept as the note.
REASONS = ("wrong_size", "damaged", "not_as_described", "changed_mind", "wrong_item", "other")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ReturnOutcome:
    eligibility: Eligibility
    request: ReturnRequest | None = None  # None when the policy refused


@dataclass(frozen=True)
class RefundReport:
    order: Order
    returns: tuple[ReturnRequest, ...]


@dataclass(frozen=True)
class ChangeReview:
    """Whether an order can still be cancelled or re-addressed, and if not, why."""

    order: Order
    market: Market
    refused: str | None = None  # a ChangeRefused code


class AfterSales:
    def __init__(
        self,
        orders: OrderSystem,
        policy: ReturnPolicy,
        deadline: float,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.orders = orders
        self.policy = policy
        self.deadline = deadline
        self.clock = clock

    async def verify(self, lookup: OrderLookup) -> Order:
        return await self._within(self.orders.find_verified(lookup))

    async def check_return(self, lookup: OrderLookup) -> Eligibility:
        """What of the order can be returned today, after its earlier returns."""
        return await self._within(self._check_return(lookup))

    async def _check_return(self, lookup: OrderLookup) -> Eligibility:
        order = await self.orders.find_verified(lookup)
        existing: tuple[ReturnRequest, ...] = ()
        if order.delivered_at is not None:
            existing = await self.orders.list_returns(lookup)
        return eligibility(order, self.policy, self.clock().date(), existing)

    async def request_return(
        self, lookup: OrderLookup, skus: Sequence[str] | None, reason: str, note: str | None
    ) -> ReturnOutcome:
        """Return ``skus`` (``None``: everything returnable) if the policy allows it today.

        Lines no longer returnable (final sale, returned already) are left out silently: the
        customer was shown what can be returned when choosing.
        """
        return await self._within(self._request_return(lookup, skus, reason, note))

    async def _request_return(
        self, lookup: OrderLookup, skus: Sequence[str] | None, reason: str, note: str | None
    ) -> ReturnOutcome:
        check = await self._check_return(lookup)
        if not check.ok:
            return ReturnOutcome(check)
        wanted = set(skus) if skus is not None else None
        lines: list[ReturnLine] = [
            line for line in check.returnable if wanted is None or line.sku in wanted
        ]
        if not lines:
            lines = list(check.returnable)
        reason = reason if reason in REASONS else "other"
        request = await self.orders.create_return(lookup, lines, reason, note)
        return ReturnOutcome(check, request)

    async def refund_status(self, lookup: OrderLookup) -> RefundReport:
        async def report() -> RefundReport:
            order = await self.orders.find_verified(lookup)
            return RefundReport(order, await self.orders.list_returns(lookup))

        return await self._within(report())

    async def review_change(self, lookup: OrderLookup) -> ChangeReview:
        order = await self.verify(lookup)
        market = self.policy.market_for(order.country)
        try:
            _refuse_unless_changeable(order)
        except ChangeRefused as refused:
            return ChangeReview(order, market, refused.code)
        return ChangeReview(order, market)

    async def check_change(self, lookup: OrderLookup) -> Order:
        """The verified order, or ``ChangeRefused`` when it can no longer be changed."""
        order = await self.verify(lookup)
        _refuse_unless_changeable(order)
        return order

    async def cancel(self, lookup: OrderLookup) -> Order:
        async def cancel() -> Order:
            _refuse_unless_changeable(await self.orders.find_verified(lookup))
            return await self.orders.cancel_order(lookup)

        return await self._within(cancel())

    async def change_address(self, lookup: OrderLookup, address: str) -> Order:
        async def change() -> Order:
            _refuse_unless_changeable(await self.orders.find_verified(lookup))
            return await self.orders.change_shipping_address(lookup, address)

        return await self._within(change())

    async def _within(self, work: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(work, timeout=self.deadline)
        except asyncio.TimeoutError as error:
            raise BackendUnavailable("after-sales deadline exceeded", system="desk") from error


def _refuse_unless_changeable(order: Order) -> None:
    from borderless.commerce.models import OrderStatus

    if order.status is OrderStatus.CANCELLED:
        raise ChangeRefused("already_cancelled")
    if not order.can_be_changed:
        raise ChangeRefused("already_fulfilled")


__all__ = ["REASONS", "AfterSales", "RefundReport", "ReturnOutcome", "Verdict"]
