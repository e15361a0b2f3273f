"""Read queries of the reference shop, returning the shared commerce models.

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

from borderless.commerce.errors import OrderNotFound, TrackingNotFound
from borderless.commerce.models import (
    Checkpoint,
    LineItem,
    Order,
    OrderLookup,
    OrderStatus,
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
        number = self.numbers.normalize(lookup.number) or lookup.number.strip().upper()
        with self.engine.connect() as conn:
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
            previous = conn.execute(
                select(func.count())
                .select_from(schema.orders)
                .where(schema.orders.c.customer_id == row["customer_id"])
                .where(schema.orders.c.placed_at < row["placed_at"])
            ).scalar_one()
            return dataclasses.replace(
                order,
                previous_orders=int(previous),
                items=_line_items(conn, row["id"]),
                shipments=_shipments(conn, row["id"]),
            )

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
