"""Tables of the reference shop, in SQLAlchemy Core so one schema runs on SQLite and PostgreSQL.

Core rather than the ORM: the shop is a handful of read queries that map straight onto the frozen
models in ``borderless.commerce.models``, and an ORM identity map would only sit in between.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
)
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator, TypeEngine

metadata = MetaData()


class Money(TypeDecorator[Decimal]):
    """NUMERIC on PostgreSQL; exact decimal text on SQLite, which has no decimal type and would
    otherwise round-trip prices through binary floats."""

    impl = Numeric()  # no fixed scale: "79.90" and "12800" come back exactly as written
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        amount = Decimal(value)
        return str(amount) if dialect.name == "sqlite" else amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(str(value))


class UtcDateTime(TypeDecorator[datetime]):
    """Instants stored as UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime instant: {value!r}")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=False, unique=True),  # stored lower-cased
    Column("phone", String(32), nullable=True),  # E.164
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False, index=True),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(32), nullable=False),
    Column("shipping_method", String(40), nullable=False),
    Column("total", Money, nullable=False),
    Column("placed_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("estimated_delivery", Date, nullable=True),
)

line_items = Table(
    "line_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Money, nullable=False),
)

shipments = Table(
    "shipments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("carrier", String(64), nullable=False),
    Column("carrier_key", String(64), nullable=False),  # carrier_key(carrier)
    Column("tracking_number", String(64), nullable=False, index=True),
    Column("tracking_url", Text, nullable=True),
    Column("estimated_delivery", Date, nullable=True),
    UniqueConstraint("carrier_key", "tracking_number", name="uq_shipments_carrier_tracking"),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("shipment_id", Integer, ForeignKey("shipments.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("time", UtcDateTime, nullable=False),
    Column("status", String(32), nullable=False),
    Column("location", String(300), nullable=False),
    Column("message", Text, nullable=False),
)

# Returns asked for through the assistant (or seeded), their lines, and address changes. New
# tables rather than new columns, so a database created before them only needs create_all.
returns = Table(
    "returns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("reason", String(40), nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("currency", String(3), nullable=True),
    Column("refund_amount", Money, nullable=True),
    Column("refunded_at", UtcDateTime, nullable=True),
)

return_items = Table(
    "return_items",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("return_id", Integer, ForeignKey("returns.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(64), nullable=False),
    Column("title", String(300), nullable=False),
    Column("quantity", Integer, nullable=False),
)

address_changes = Table(
    "address_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, index=True),
    Column("address", Text, nullable=False),  # as the customer typed it
    Column("created_at", UtcDateTime, nullable=False),
)


_NOT_ALNUM = re.compile(r"[^0-9a-z]")
_SEPARATORS = re.compile(r"[\s\-]")


def carrier_key(carrier: str) -> str:
    """How a carrier name is matched: "China Post", "china-post" and "CHINAPOST" are one carrier."""
    return _NOT_ALNUM.sub("", carrier.lower())


def tracking_key(tracking_number: str) -> str:
    """How a tracking number is stored and matched: upper case, without spaces or dashes."""
    return _SEPARATORS.sub("", tracking_number).upper()


def make_engine(database_url: str) -> Engine:
    """An engine for ``database_url``; no connection is opened until the first query.

    A SQLite file gets its parent directory created (``sqlite:///var/shop.db`` on a fresh
    checkout). In-memory SQLite is pinned to one shared connection, because the app runs queries
    on worker threads and each thread would otherwise see its own empty database.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, future=True)
    database = url.database or ""
    if database in ("", ":memory:"):
        return create_engine(
            url,
            connect_args={"check_same_thread": False},
            poolclass=StaticPool,
            future=True,
        )
    parent = os.path.dirname(os.path.abspath(database))
    os.makedirs(parent, exist_ok=True)
    return create_engine(url, connect_args={"check_same_thread": False}, future=True)


def create_schema(engine: Engine) -> None:
    metadata.create_all(engine)


def drop_schema(engine: Engine) -> None:
    metadata.drop_all(engine)
