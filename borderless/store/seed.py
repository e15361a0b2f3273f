"""Loading ``demo/orders.yml`` into the shop database.

The fixture writes times relative to the moment of seeding (``-6d 09:30``, ``-5h``, ``+2d``), so a
freshly seeded demo always has a parcel "out for delivery today" however old the checkout is. The
format is documented at the top of ``demo/orders.yml``.

Parsing is separate from inserting: ``load_fixture`` turns the file into the shop's own models
(``OrderReport``: an order plus the tracking of each parcel) and rejects a bad fixture before the
database is touched; ``seed`` writes them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from borderless.commerce.models import (
    Checkpoint,
    LineItem,
    Order,
    OrderReport,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Tracking,
    TrackingStatus,
    is_valid_email,
    is_valid_phone,
    normalize_email,
)
from borderless.commerce.numbers import OrderNumberFormat
from borderless.store import schema

_RELATIVE_INSTANT = re.compile(
    r"^(?P<sign>[+-])(?P<amount>\d+)(?P<unit>[dhm])(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2}))?$"
)
_RELATIVE_DATE = re.compile(r"^(?P<sign>[+-])(?P<days>\d+)d$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


class FixtureError(ValueError):
    """The fixture file is malformed; the message names the order and field."""


@dataclass(frozen=True)
class SeedResult:
    orders: int  # how many orders were inserted
    skipped: bool  # True when the database already held orders and no reset was asked for


def resolve_instant(value: Any, now: datetime) -> datetime:
    """A fixture time as an aware UTC ``datetime``.

    ``-6d 09:30`` is a calendar day before today at a UTC clock time; ``-5h``, ``-90m`` and a
    plain ``-1d`` are exact offsets from ``now``; ISO 8601 (or a YAML timestamp) is absolute.
    """
    now = now.astimezone(timezone.utc)
    if isinstance(value, datetime):
        return _utc(value)
    text = str(value).strip()
    if text == "now":
        return now
    match = _RELATIVE_INSTANT.match(text)
    if match:
        sign = -1 if match["sign"] == "-" else 1
        amount = int(match["amount"])
        if match["hour"] is None:
            return now + sign * timedelta(**{_UNITS[match["unit"]]: amount})
        if match["unit"] != "d":
            raise ValueError(f"a clock time only goes with a day offset: {text!r}")
        clock = time(int(match["hour"]), int(match["minute"]), tzinfo=timezone.utc)
        day = now.date() + sign * timedelta(days=amount)
        return datetime.combine(day, clock)
    try:
        return _utc(datetime.fromisoformat(text))
    except ValueError:
        raise ValueError(f"not a relative or ISO 8601 time: {text!r}") from None


def resolve_date(value: Any, now: datetime) -> date:
    """A fixture date: ``+2d`` / ``-3d`` / ``+0d`` relative to today (UTC), or ISO 8601."""
    if isinstance(value, datetime):
        return _utc(value).date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    match = _RELATIVE_DATE.match(text)
    if match:
        sign = -1 if match["sign"] == "-" else 1
        return now.astimezone(timezone.utc).date() + sign * timedelta(days=int(match["days"]))
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a relative or ISO 8601 date: {text!r}") from None


def load_fixture(path: str | Path, now: datetime | None = None) -> list[OrderReport]:
    """Every order in the fixture, with times resolved against ``now`` (default: this moment)."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    if not isinstance(document, Mapping) or not isinstance(document.get("orders"), list):
        raise FixtureError(f"{path}: expected a mapping with an 'orders' list")
    reports: list[OrderReport] = []
    seen: set[str] = set()
    customers: dict[str, tuple[str | None, str | None]] = {}
    for index, raw in enumerate(document["orders"]):
        where = f"{path}: orders[{index}]"
        if isinstance(raw, Mapping) and raw.get("number"):
            where = f"{path}: order {raw['number']}"
        try:
            report = _parse_order(raw, moment)
        except (KeyError, TypeError, ValueError) as exc:
            raise FixtureError(f"{where}: {_describe(exc)}") from exc
        order = report.order
        if order.number in seen:
            raise FixtureError(f"{where}: duplicate order number")
        seen.add(order.number)
        contact = (order.customer_name, order.phone)
        known = customers.setdefault(normalize_email(order.email), contact)
        if known != contact:
            raise FixtureError(f"{where}: same email as another order but a different name/phone")
        reports.append(report)
    return reports


def seed(
    engine: Engine, path: str | Path, *, now: datetime | None = None, reset: bool = False
) -> SeedResult:
    """Create the tables and load the fixture, unless orders are already there.

    Idempotent so that ``serve --seed`` can run on every start without duplicating anything;
    ``reset=True`` drops and recreates the tables first, which is also how a long-running demo
    gets its relative times refreshed.
    """
    reports = load_fixture(path, now)  # fail on a bad fixture before touching the database
    if reset:
        schema.drop_schema(engine)
    schema.create_schema(engine)
    with engine.begin() as conn:
        existing = conn.execute(select(func.count()).select_from(schema.orders)).scalar_one()
        if existing:
            return SeedResult(orders=0, skipped=True)
        customer_ids: dict[str, int] = {}
        for report in reports:
            _insert(conn, report, customer_ids)
        for number, requests in load_returns(path, now, reports).items():
            _insert_returns(conn, number, requests)
    return SeedResult(orders=len(reports), skipped=False)


def load_returns(
    path: str | Path, now: datetime | None, reports: Sequence[OrderReport]
) -> dict[str, list[ReturnRequest]]:
    """The ``returns:`` of each order in the fixture (refund-status demos), by order number."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    orders = {r.order.number: r.order for r in reports}
    result: dict[str, list[ReturnRequest]] = {}
    for raw in document["orders"]:
        if not raw.get("returns"):
            continue
        order = orders[str(raw["number"])]
        titles = {item.sku: item.title for item in order.items}
        try:
            for entry in _sequence(raw["returns"], "returns"):
                data = _mapping(entry, "return")
                amount = data.get("refund_amount")
                items = tuple(
                    ReturnLine(
                        sku=_text(i, "sku"),
                        title=titles[_text(i, "sku")],
                        quantity=int(i.get("quantity", 1)),
                    )
                    for i in (_mapping(i, "item") for i in _sequence(data["items"], "items"))
                )
                result.setdefault(order.number, []).append(
                    ReturnRequest(
                        reference=_text(data, "reference"),
                        order_number=order.number,
                        status=ReturnStatus(_text(data, "status")),
                        created_at=resolve_instant(_required(data, "created"), moment),
                        items=items,
                        reason=str(data.get("reason") or "other"),
                        currency=order.currency,
                        refund_amount=None if amount is None else _amount(amount, "amount"),
                        refunded_at=resolve_instant(data["refunded"], moment)
                        if data.get("refunded")
                        else None,
                    )
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise FixtureError(f"{path}: returns of {order.number}: {_describe(exc)}") from exc
    return result


def _insert_returns(conn: Connection, number: str, requests: list[ReturnRequest]) -> None:
    order_id = conn.execute(
        select(schema.orders.c.id).where(schema.orders.c.number == number)
    ).scalar_one()
    for request in requests:
        return_id = conn.execute(
            schema.returns.insert().values(
                reference=request.reference,
                order_id=order_id,
                status=request.status.value,
                reason=request.reason,
                note=request.note,
                created_at=request.created_at,
                currency=request.currency,
                refund_amount=request.refund_amount,
                refunded_at=request.refunded_at,
            )
        ).inserted_primary_key[0]
        conn.execute(
            schema.return_items.insert(),
            [
                {"return_id": return_id, "position": i, "sku": line.sku, "title": line.title,
                 "quantity": line.quantity}
                for i, line in enumerate(request.items)
            ],
        )  # fmt: skip


def _insert(conn: Connection, report: OrderReport, customer_ids: dict[str, int]) -> None:
    order = report.order
    email = normalize_email(order.email)
    if email not in customer_ids:
        result = conn.execute(
            schema.customers.insert().values(
                name=order.customer_name or "", email=email, phone=order.phone
            )
        )
        customer_ids[email] = int(result.inserted_primary_key[0])
    order_id = conn.execute(
        schema.orders.insert().values(
            number=order.number,
            customer_id=customer_ids[email],
            country=order.country,
            currency=order.currency,
            status=order.status.value,
            shipping_method=order.shipping_method,
            total=order.total,
            placed_at=order.placed_at,
            delivered_at=order.delivered_at,
            estimated_delivery=order.estimated_delivery,
        )
    ).inserted_primary_key[0]
    if order.items:
        conn.execute(
            schema.line_items.insert(),
            [
                {
                    "order_id": order_id,
                    "position": position,
                    "sku": item.sku,
                    "title": item.title,
                    "quantity": item.quantity,
                    "unit_price": item.unit_price,
                }
                for position, item in enumerate(order.items)
            ],
        )
    for position, tracking in enumerate(report.trackings):
        shipment_id = conn.execute(
            schema.shipments.insert().values(
                order_id=order_id,
                position=position,
                carrier=tracking.carrier,
                carrier_key=schema.carrier_key(tracking.carrier),
                tracking_number=tracking.tracking_number,
                tracking_url=tracking.tracking_url,
                estimated_delivery=tracking.estimated_delivery,
            )
        ).inserted_primary_key[0]
        if tracking.checkpoints:
            conn.execute(
                schema.checkpoints.insert(),
                [
                    {
                        "shipment_id": shipment_id,
                        "position": index,
                        "time": checkpoint.time,
                        "status": checkpoint.status.value,
                        "location": checkpoint.location,
                        "message": checkpoint.message,
                    }
                    for index, checkpoint in enumerate(tracking.checkpoints)
                ],
            )


def _parse_order(raw: Any, now: datetime) -> OrderReport:
    data = _mapping(raw, "order")
    number = _text(data, "number")
    if OrderNumberFormat().normalize(number) != number:
        raise ValueError(f"number {number!r} is not a canonical order number like BL-10001")
    email = _text(data, "email")
    if not is_valid_email(email):
        raise ValueError(f"email {email!r} is not an email address")
    phone = data.get("phone")
    if phone is not None and not (
        isinstance(phone, str) and phone.startswith("+") and is_valid_phone(phone)
    ):
        raise ValueError(f"phone {phone!r} must be a quoted E.164 string like '+4915112345678'")
    country = _text(data, "country")
    currency = _text(data, "currency")
    if not re.fullmatch(r"[A-Z]{2}", country) or not re.fullmatch(r"[A-Z]{3}", currency):
        raise ValueError("country must be ISO 3166-1 alpha-2 and currency ISO 4217, upper case")
    items = tuple(_parse_item(item) for item in _sequence(data.get("items") or [], "items"))
    trackings = tuple(
        _parse_shipment(s, now) for s in _sequence(data.get("shipments") or [], "shipments")
    )
    subtotal = sum((item.unit_price * item.quantity for item in items), Decimal(0))
    if data.get("estimated_delivery") is not None:
        estimated: date | None = resolve_date(data["estimated_delivery"], now)
    else:
        estimates = [t.estimated_delivery for t in trackings if t.estimated_delivery]
        estimated = max(estimates) if estimates else None
    order = Order(
        number=number,
        email=email,
        phone=phone,
        country=country,
        status=OrderStatus(_text(data, "status")),
        currency=currency,
        total=subtotal + _amount(data.get("shipping_fee", "0"), "shipping_fee"),
        placed_at=resolve_instant(_required(data, "placed"), now),
        shipping_method=_text(data, "shipping_method"),
        items=items,
        shipments=tuple(Shipment(t.carrier, t.tracking_number, t.tracking_url) for t in trackings),
        customer_name=_text(data, "customer"),
        delivered_at=_delivered_at(trackings),
        estimated_delivery=estimated,
    )
    return OrderReport(order=order, trackings=trackings)


def _parse_item(raw: Any) -> LineItem:
    data = _mapping(raw, "item")
    quantity = data.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValueError(f"item quantity must be a positive integer, not {quantity!r}")
    return LineItem(
        sku=_text(data, "sku"),
        title=_text(data, "title"),
        quantity=quantity,
        unit_price=_amount(_required(data, "unit_price"), "unit_price"),
    )


def _parse_shipment(raw: Any, now: datetime) -> Tracking:
    data = _mapping(raw, "shipment")
    tracking_number = data.get("tracking_number")
    if not isinstance(tracking_number, str):
        raise ValueError(f"tracking_number {tracking_number!r} must be a quoted string")
    checkpoints = tuple(
        Checkpoint(
            time=resolve_instant(_required(c, "time"), now),
            status=TrackingStatus(_text(c, "status")),
            location=str(c.get("location") or ""),
            message=_text(c, "message"),
        )
        for c in (
            _mapping(c, "checkpoint")
            for c in _sequence(data.get("checkpoints") or [], "checkpoints")
        )
    )
    eta = data.get("estimated_delivery")
    return Tracking(
        carrier=_text(data, "carrier"),
        tracking_number=schema.tracking_key(tracking_number),
        status=checkpoints[-1].status if checkpoints else TrackingStatus.INFO_RECEIVED,
        checkpoints=checkpoints,
        estimated_delivery=resolve_date(eta, now) if eta is not None else None,
        tracking_url=str(data["tracking_url"]) if data.get("tracking_url") else None,
    )


def _delivered_at(trackings: Sequence[Tracking]) -> datetime | None:
    """When the last parcel arrived; ``None`` while any parcel is still on its way."""
    arrivals = []
    for tracking in trackings:
        delivered = [c.time for c in tracking.checkpoints if c.status is TrackingStatus.DELIVERED]
        if not delivered:
            return None
        arrivals.append(max(delivered))
    return max(arrivals) if arrivals else None


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"each {what} must be a mapping, not {type(value).__name__}")
    return value


def _sequence(value: Any, what: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} must be a list")
    return value


def _required(data: Mapping[str, Any], key: str) -> Any:
    if data.get(key) is None:
        raise KeyError(key)
    return data[key]


def _text(data: Mapping[str, Any], key: str) -> str:
    value = _required(data, key)
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{key} must be a non-empty string, not {value!r}")
    return value.strip()


def _amount(value: Any, key: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f'{key} {value!r} must be quoted, e.g. "{value}", to stay exact')
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{key} {value!r} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"{key} {value!r} is not an amount")
    return amount


def _describe(exc: Exception) -> str:
    return f"missing field {exc.args[0]!r}" if isinstance(exc, KeyError) else str(exc)
