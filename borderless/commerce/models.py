"""The shop's data as Borderless sees it, independent of which system it came from.

Every adapter (reference shop, Shopify, WooCommerce, AfterShip, 17TRACK) maps its own shapes onto
these frozen dataclasses, so actions and replies never depend on a vendor's field names.
Money is a ``Decimal`` with an ISO 4217 currency; instants are timezone-aware ``datetime``s.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any


class OrderStatus(str, enum.Enum):
    """Where an order stands from the customer's point of view."""

    UNPAID = "unpaid"
    PROCESSING = "processing"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"
    RETURNED = "returned"

    @property
    def has_left_warehouse(self) -> bool:
        return self in {
            OrderStatus.SHIPPED,
            OrderStatus.IN_TRANSIT,
            OrderStatus.OUT_FOR_DELIVERY,
            OrderStatus.DELIVERED,
            OrderStatus.EXCEPTION,
        }


class TrackingStatus(str, enum.Enum):
    """One vocabulary for carrier and aggregator status codes (AfterShip tags, 17TRACK stages)."""

    INFO_RECEIVED = "info_received"
    IN_TRANSIT = "in_transit"
    CUSTOMS = "customs"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    AVAILABLE_FOR_PICKUP = "available_for_pickup"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    EXPIRED = "expired"


@dataclass(frozen=True)
class LineItem:
    sku: str
    title: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Checkpoint:
    """One scan or event reported by the carrier."""

    time: datetime
    status: TrackingStatus
    location: str
    message: str


@dataclass(frozen=True)
class Shipment:
    carrier: str
    tracking_number: str
    tracking_url: str | None = None


@dataclass(frozen=True)
class Tracking:
    """What the logistics system knows about one parcel, newest checkpoint last."""

    carrier: str
    tracking_number: str
    status: TrackingStatus
    checkpoints: tuple[Checkpoint, ...] = ()
    estimated_delivery: date | None = None
    tracking_url: str | None = None

    @property
    def latest(self) -> Checkpoint | None:
        return self.checkpoints[-1] if self.checkpoints else None


@dataclass(frozen=True)
class Order:
    number: str
    email: str
    phone: str | None
    country: str  # ISO 3166-1 alpha-2 of the destination
    status: OrderStatus
    currency: str
    total: Decimal
    placed_at: datetime
    shipping_method: str
    items: tuple[LineItem, ...] = ()
    shipments: tuple[Shipment, ...] = ()
    customer_name: str | None = None
    delivered_at: datetime | None = None
    estimated_delivery: date | None = None
    # Orders the same customer placed before this one, when the system knows (VIP rules).
    previous_orders: int | None = None
    # The delivery address as the shop holds it, one free-text block (changes are stored as
    # the customer typed them); None when the system does not tell us.
    shipping_address: str | None = None

    @property
    def can_be_changed(self) -> bool:
        """Cancellation and address changes are only possible before anything has shipped."""
        return self.status in (OrderStatus.UNPAID, OrderStatus.PROCESSING)


class ReturnStatus(str, enum.Enum):
    """Where a return (or a refund without a return) stands, in every order system's terms."""

    REQUESTED = "requested"  # asked for; the shop has not acted yet
    APPROVED = "approved"  # accepted; the label or the address has been sent
    RECEIVED = "received"  # the parcel is back in the warehouse, being checked
    REFUNDED = "refunded"  # the money is on its way back
    DECLINED = "declined"  # refused by the shop (e.g. used, outside the policy)
    CLOSED = "closed"  # withdrawn by the customer or closed without a refund


@dataclass(frozen=True)
class ReturnLine:
    sku: str
    title: str
    quantity: int


@dataclass(frozen=True)
class ReturnRequest:
    """A return (or, for systems without returns, a refund) of some lines of one order."""

    reference: str
    order_number: str
    status: ReturnStatus
    created_at: datetime
    items: tuple[ReturnLine, ...] = ()
    reason: str = "other"
    note: str | None = None
    currency: str | None = None
    refund_amount: Decimal | None = None
    refunded_at: datetime | None = None


@dataclass(frozen=True)
class OrderLookup:
    """What a customer gave to prove an order is theirs: the number plus an email or a phone.

    A lookup without a contact is never sent to an order system: looking up by number alone
    would let anyone enumerate orders.
    """

    number: str
    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if not self.number.strip():
            raise ValueError("an order lookup needs an order number")
        if not (self.email or self.phone):
            raise ValueError("an order lookup needs the email or phone the order was placed with")

    def matches(self, order: Order) -> bool:
        """Whether this lookup proves ownership of ``order``; compares in constant time."""
        import hmac

        if (
            self.email
            and order.email
            and hmac.compare_digest(
                normalize_email(self.email).encode(), normalize_email(order.email).encode()
            )
        ):
            return True
        return bool(
            self.phone
            and order.phone
            and hmac.compare_digest(
                normalize_phone(self.phone).encode(), normalize_phone(order.phone).encode()
            )
        )


@dataclass(frozen=True)
class OrderReport:
    """An order with the live tracking of each of its parcels: what a status reply is built from."""

    order: Order
    trackings: tuple[Tracking, ...] = field(default=())


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$")
_NON_DIGITS = re.compile(r"\D")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def is_valid_email(value: str) -> bool:
    return bool(_EMAIL.match(value.strip()))


def normalize_phone(value: str) -> str:
    """Digits only, with international prefix ``00`` folded into the country code.

    ``+49 151 2345-678``, ``0049151 2345678`` and ``whatsapp:+491512345678`` compare equal.
    """
    digits = _NON_DIGITS.sub("", value)
    if digits.startswith("00"):
        digits = digits[2:]
    return digits


def is_valid_phone(value: str) -> bool:
    return 7 <= len(normalize_phone(value)) <= 15


def as_dict(obj: Any) -> Any:
    """JSON-ready form of the models (enums to values, dates to ISO 8601, Decimal to str)."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: as_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, list | tuple):
        return [as_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: as_dict(v) for k, v in obj.items()}
    return obj


def order_from_dict(data: dict[str, Any]) -> Order:
    """Inverse of ``as_dict`` for ``Order``, for adapters that receive our own JSON shape.

    Raises ``KeyError``, ``TypeError`` or ``ValueError`` on a malformed dict; an adapter turns
    those into a ``BackendError``, since a malformed answer is the backend's fault.
    """
    return Order(
        number=str(data["number"]),
        email=str(data["email"]),
        phone=_opt_str(data.get("phone")),
        country=str(data["country"]),
        status=OrderStatus(data["status"]),
        currency=str(data["currency"]),
        total=_decimal(data["total"]),
        placed_at=_aware(data["placed_at"]),
        shipping_method=str(data["shipping_method"]),
        items=tuple(
            LineItem(
                sku=str(item["sku"]),
                title=str(item["title"]),
                quantity=int(item["quantity"]),
                unit_price=_decimal(item["unit_price"]),
            )
            for item in data.get("items") or ()
        ),
        shipments=tuple(
            Shipment(
                carrier=str(s["carrier"]),
                tracking_number=str(s["tracking_number"]),
                tracking_url=_opt_str(s.get("tracking_url")),
            )
            for s in data.get("shipments") or ()
        ),
        customer_name=_opt_str(data.get("customer_name")),
        delivered_at=_aware(data["delivered_at"]) if data.get("delivered_at") else None,
        estimated_delivery=_date(data.get("estimated_delivery")),
        previous_orders=(
            int(data["previous_orders"]) if data.get("previous_orders") is not None else None
        ),
        shipping_address=_opt_str(data.get("shipping_address")),
    )


def tracking_from_dict(data: dict[str, Any]) -> Tracking:
    """Inverse of ``as_dict`` for ``Tracking``; raises like ``order_from_dict``."""
    return Tracking(
        carrier=str(data["carrier"]),
        tracking_number=str(data["tracking_number"]),
        status=TrackingStatus(data["status"]),
        checkpoints=tuple(
            Checkpoint(
                time=_aware(c["time"]),
                status=TrackingStatus(c["status"]),
                location=str(c.get("location") or ""),
                message=str(c.get("message") or ""),
            )
            for c in data.get("checkpoints") or ()
        ),
        estimated_delivery=_date(data.get("estimated_delivery")),
        tracking_url=_opt_str(data.get("tracking_url")),
    )


def return_from_dict(data: dict[str, Any]) -> ReturnRequest:
    """Inverse of ``as_dict`` for ``ReturnRequest``; raises like ``order_from_dict``."""
    amount = data.get("refund_amount")
    return ReturnRequest(
        reference=str(data["reference"]),
        order_number=str(data["order_number"]),
        status=ReturnStatus(data["status"]),
        created_at=_aware(data["created_at"]),
        items=tuple(
            ReturnLine(
                sku=str(item["sku"]), title=str(item["title"]), quantity=int(item["quantity"])
            )
            for item in data.get("items") or ()
        ),
        reason=str(data.get("reason") or "other"),
        note=_opt_str(data.get("note")),
        currency=_opt_str(data.get("currency")),
        refund_amount=None if amount is None else _decimal(amount),
        refunded_at=_aware(data["refunded_at"]) if data.get("refunded_at") else None,
    )


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, float):  # never trust binary floats with money; go through str
        value = repr(value)
    if not isinstance(value, str | int | Decimal):
        raise TypeError(f"not an amount: {value!r}")
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def _aware(value: Any) -> datetime:
    """An ISO 8601 instant; a naive one is taken as UTC rather than the server's local time."""
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value)
        if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not take "Z"
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
