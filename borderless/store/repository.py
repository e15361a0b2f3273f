"""Queries of the reference shop, returning the shared commerce models.

Reads, plus the few changes a customer may make through the assistant (a return request, a
cancellation, a new delivery address): each verifies the order exactly like a lookup does and
runs in one transaction.

Synchronous on purpose: SQLAlchemy 1.4's async engine would need aiosqlite/asyncpg, which this
project does not ship; the Sanic app runs these calls on a worker thread instead.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from borderless.commerce.errors import ChangeRefused, OrderNotFound, TrackingNotFound
from borderless.commerce.models import (
    Checkpoint,
    LineItem,
    Order,
    OrderLookup,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Tracking,
    TrackingStatus,
)
from borderless.commerce.numbers import OrderNumberFormat
from borderless.store import schema

# Compared against when the number is unknown, so an unknown number and a wrong contact cost
# about the same time and cannot be told apart by a stopwatch either.
_DECOY = Order(
    number="BL-00000",
    email="nobody@invalid.example",
    phone="+0000000000",
    country="ZZ",
    status=OrderStatus.CANCELLED,
    currency="XXX",
    total=Decimal(0),
    placed_at=datetime(2000, 1, 1, tzinfo=timezone.utc),
    shipping_method="none",
)


class ShopRepository:
    """The shop's orders and parcels, as the assistant may see them."""

    def __init__(self, engine: Engine, numbers: OrderNumberFormat | None = None) -> None:
        self.engine = engine
        self.numbers = numbers or OrderNumberFormat()

    def count_orders(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(schema.orders)).scalar_one())

    def find_verified(self, lookup: OrderLookup) -> Order:
        """The order if ``lookup`` proves ownership; ``OrderNotFound`` otherwise, whatever failed.

        Only the order's own row is read before the contact check, so the line items and parcels
        of an order are never loaded for someone who has not proven it is theirs.
        """
        with self.engine.connect() as conn:
            return self._verified(conn, lookup)[1]

    def _verified(self, conn: Connection, lookup: OrderLookup) -> tuple[int, Order]:
        number = self.numbers.normalize(lookup.number) or lookup.number.strip().upper()
        row = (
            conn.execute(
                select(
                    schema.orders,
                    schema.customers.c.name,
                    schema.customers.c.email,
                    schema.customers.c.phone,
                )
                .join(schema.customers, schema.customers.c.id == schema.orders.c.customer_id)
                .where(schema.orders.c.number == number)
            )
            .mappings()
            .first()
        )
        if row is None:
            lookup.matches(_DECOY)
            raise OrderNotFound(number)
        order = _order_from_row(row)
        if not lookup.matches(order):
            raise OrderNotFound(number)
        address = conn.execute(
            select(schema.address_changes.c.address)
            .where(schema.address_changes.c.order_id == row["id"])
            .order_by(schema.address_changes.c.id.desc())
            .limit(1)
        ).scalar()
        previous = conn.execute(
            select(func.count())
            .select_from(schema.orders)
            .where(schema.orders.c.customer_id == row["customer_id"])
            .where(schema.orders.c.placed_at < row["placed_at"])
        ).scalar_one()
        return row["id"], dataclasses.replace(
            order,
            previous_orders=int(previous),
            items=_line_items(conn, row["id"]),
            shipments=_shipments(conn, row["id"]),
            shipping_address=address,
        )

    def list_returns(self, lookup: OrderLookup) -> tuple[ReturnRequest, ...]:
        """Every return of a verified order, oldest first."""
        with self.engine.connect() as conn:
            order_id, order = self._verified(conn, lookup)
            return _returns(conn, order_id, order.number)

    def create_return(
        self,
        lookup: OrderLookup,
        lines: list[tuple[str, int]],
        reason: str,
        note: str | None,
        now: datetime,
    ) -> ReturnRequest:
        """Record a return of ``lines`` (sku, quantity) of a delivered, verified order.

        The shop only guards its own facts: the order was delivered, the lines are its lines,
        and nothing is returned twice. Windows and final-sale rules are the policy's
        (``borderless.commerce.returns``), applied before this is called.
        """
        with self.engine.begin() as conn:
            order_id, order = self._verified(conn, lookup)
            if order.status is OrderStatus.CANCELLED:
                raise ChangeRefused("already_cancelled")
            if order.status is not OrderStatus.DELIVERED:
                raise ChangeRefused("not_delivered")
            existing = _returns(conn, order_id, order.number)
            taken: dict[str, int] = {}
            for request in existing:
                if request.status not in (ReturnStatus.DECLINED, ReturnStatus.CLOSED):
                    for line in request.items:
                        taken[line.sku] = taken.get(line.sku, 0) + line.quantity
            ordered = {item.sku: item for item in order.items}
            chosen: list[ReturnLine] = []
            for sku, quantity in lines:
                item = ordered.get(sku)
                if item is None or quantity < 1:
                    raise ChangeRefused("nothing_to_return", f"{sku} is not in {order.number}")
                if taken.get(sku, 0) + quantity > item.quantity:
                    raise ChangeRefused("nothing_to_return", f"{sku} is already being returned")
                chosen.append(ReturnLine(sku, item.title, quantity))
            if not chosen:
                raise ChangeRefused("nothing_to_return")
            reference = f"R{order.number.split('-')[-1]}-{len(existing) + 1}"
            return_id = conn.execute(
                schema.returns.insert().values(
                    reference=reference,
                    order_id=order_id,
                    status=ReturnStatus.REQUESTED.value,
                    reason=reason,
                    note=note,
                    created_at=now,
                    currency=order.currency,
                )
            ).inserted_primary_key[0]
            conn.execute(
                schema.return_items.insert(),
                [
                    {"return_id": return_id, "position": i, **dataclasses.asdict(line)}
                    for i, line in enumerate(chosen)
                ],
            )
        return ReturnRequest(
            reference=reference,
            order_number=order.number,
            status=ReturnStatus.REQUESTED,
            created_at=now,
            items=tuple(chosen),
            reason=reason,
            note=note,
            currency=order.currency,
        )

    def cancel(self, lookup: OrderLookup) -> Order:
        """Cancel a verified order that has not shipped; ``ChangeRefused`` once it has."""
        with self.engine.begin() as conn:
            order_id, order = self._verified(conn, lookup)
            if order.status is OrderStatus.CANCELLED:
                raise ChangeRefused("already_cancelled")
            # Conditional on the status still being changeable: a parcel shipped by the
            # warehouse between our read and this write wins.
            done = conn.execute(
                schema.orders.update()
                .where(schema.orders.c.id == order_id)
                .where(
                    schema.orders.c.status.in_(
                        [OrderStatus.UNPAID.value, OrderStatus.PROCESSING.value]
                    )
                )
                .values(status=OrderStatus.CANCELLED.value)
            ).rowcount
            if not done:
                raise ChangeRefused("already_fulfilled")
        return dataclasses.replace(order, status=OrderStatus.CANCELLED)

    def change_address(self, lookup: OrderLookup, address: str, now: datetime) -> Order:
        """Record a new delivery address, as given, while the order has not shipped."""
        with self.engine.begin() as conn:
            order_id, order = self._verified(conn, lookup)
            if order.status is OrderStatus.CANCELLED:
                raise ChangeRefused("already_cancelled")
            if not order.can_be_changed:
                raise ChangeRefused("already_fulfilled")
            conn.execute(
                schema.address_changes.insert().values(
                    order_id=order_id, address=address, created_at=now
                )
            )
        return dataclasses.replace(order, shipping_address=address)

    def find_tracking(self, carrier: str, tracking_number: str) -> Tracking:
        """One parcel by carrier and number; both are matched loosely (case, spaces, dashes)."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(schema.shipments).where(
                        schema.shipments.c.tracking_number == schema.tracking_key(tracking_number),
                        schema.shipments.c.carrier_key == schema.carrier_key(carrier),
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise TrackingNotFound(f"{carrier} {tracking_number}")
            rows = conn.execute(
                select(schema.checkpoints)
                .where(schema.checkpoints.c.shipment_id == row["id"])
                .order_by(schema.checkpoints.c.time, schema.checkpoints.c.position)
            ).mappings()
            checkpoints = tuple(
                Checkpoint(
                    time=c["time"],
                    status=TrackingStatus(c["status"]),
                    location=c["location"],
                    message=c["message"],
                )
                for c in rows
            )
        return Tracking(
            carrier=row["carrier"],
            tracking_number=row["tracking_number"],
            status=checkpoints[-1].status if checkpoints else TrackingStatus.INFO_RECEIVED,
            checkpoints=checkpoints,
            estimated_delivery=row["estimated_delivery"],
            tracking_url=row["tracking_url"],
        )


def _order_from_row(row: Any) -> Order:
    return Order(
        number=row["number"],
        email=row["email"],
        phone=row["phone"],
        country=row["country"],
        status=OrderStatus(row["status"]),
        currency=row["currency"],
        total=row["total"],
        placed_at=row["placed_at"],
        shipping_method=row["shipping_method"],
        customer_name=row["name"] or None,
        delivered_at=row["delivered_at"],
        estimated_delivery=row["estimated_delivery"],
    )


def _line_items(conn: Connection, order_id: int) -> tuple[LineItem, ...]:
    rows = conn.execute(
        select(schema.line_items)
        .where(schema.line_items.c.order_id == order_id)
        .order_by(schema.line_items.c.position)
    ).mappings()
    return tuple(
        LineItem(sku=r["sku"], title=r["title"], quantity=r["quantity"], unit_price=r["unit_price"])
        for r in rows
    )


def _shipments(conn: Connection, order_id: int) -> tuple[Shipment, ...]:
    rows = conn.execute(
        select(schema.shipments)
        .where(schema.shipments.c.order_id == order_id)
        .order_by(schema.shipments.c.position)
    ).mappings()
    return tuple(
        Shipment(
            carrier=r["carrier"],
            tracking_number=r["tracking_number"],
            tracking_url=r["tracking_url"],
        )
        for r in rows
    )


def _returns(conn: Connection, order_id: int, number: str) -> tuple[ReturnRequest, ...]:
    rows = list(
        conn.execute(
            select(schema.returns)
            .where(schema.returns.c.order_id == order_id)
            .order_by(schema.returns.c.id)
        ).mappings()
    )
    result = []
    for r in rows:
        items = conn.execute(
            select(schema.return_items)
            .where(schema.return_items.c.return_id == r["id"])
            .order_by(schema.return_items.c.position)
        ).mappings()
        result.append(
            ReturnRequest(
                reference=r["reference"],
                order_number=number,
                status=ReturnStatus(r["status"]),
                created_at=r["created_at"],
                items=tuple(ReturnLine(i["sku"], i["title"], i["quantity"]) for i in items),
                reason=r["reason"],
                note=r["note"],
                currency=r["currency"],
                refund_amount=r["refund_amount"],
                refunded_at=r["refunded_at"],
            )
        )
    return tuple(result)
