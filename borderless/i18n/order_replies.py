"""Which responses answer "where is my order?", with their arguments formatted for the customer.

Pure Python (no Rasa): an ``OrderReport`` and a language in, a list of ``Reply`` out. The action
only dispatches them, so the same logic serves every channel and is tested without a bot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from babel import Locale

from borderless.commerce.models import (
    Order,
    OrderReport,
    OrderStatus,
    Shipment,
    Tracking,
    TrackingStatus,
)
from borderless.i18n.formatting import (
    country_name,
    country_timezone,
    format_day,
    format_moment,
    format_money,
    locale_for,
)


@dataclass(frozen=True)
class Reply:
    response: str
    args: dict[str, Any] = field(default_factory=dict)


def order_status_replies(report: OrderReport, language: str) -> list[Reply]:
    order = report.order
    locale = locale_for(language, order.country)
    replies = [
        Reply(f"utter_order_status_{order.status.value}", _order_args(order, report, locale))
    ]
    if not order.status.has_left_warehouse:
        return replies
    trackings = {t.tracking_number: t for t in report.trackings}
    for index, shipment in enumerate(order.shipments, start=1):
        tracking = trackings.get(shipment.tracking_number)
        replies.append(_parcel(shipment, tracking, index, len(order.shipments)))
        replies.append(_latest(order, tracking, locale))
    expected = _expected_delivery(order, report.trackings)
    if order.status is not OrderStatus.DELIVERED and expected:
        replies.append(
            Reply("utter_expected_delivery", {"expected_delivery": format_day(expected, locale)})
        )
    return replies


def _order_args(order: Order, report: OrderReport, locale: Locale) -> dict[str, Any]:
    tz = country_timezone(order.country)
    delivered = order.delivered_at or _delivered_at(report.trackings)
    return {
        "order_number": order.number,
        "placed_on": format_day(order.placed_at.astimezone(tz).date(), locale),
        "total": format_money(order.total, order.currency, locale),
        "country": country_name(order.country, locale),
        "delivered_on": format_day(delivered.astimezone(tz).date(), locale) if delivered else "",
    }


def _parcel(shipment: Shipment, tracking: Tracking | None, index: int, count: int) -> Reply:
    url = shipment.tracking_url or (tracking.tracking_url if tracking else None) or ""
    args = {
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": url,
        "parcel": index,
        "parcels": count,
    }
    return Reply("utter_parcel_of" if count > 1 else "utter_parcel", args)


def _latest(order: Order, tracking: Tracking | None, locale: Locale) -> Reply:
    checkpoint = tracking.latest if tracking else None
    if tracking is None or checkpoint is None:
        return Reply("utter_no_tracking_yet")
    status = tracking.status if tracking.status is TrackingStatus.EXPIRED else checkpoint.status
    return Reply(
        f"utter_checkpoint_{status.value}",
        {
            "checkpoint_time": format_moment(
                checkpoint.time, locale, country_timezone(order.country)
            ),
            "checkpoint_location": checkpoint.location,
        },
    )


def _expected_delivery(order: Order, trackings: tuple[Tracking, ...]) -> date | None:
    dates = [t.estimated_delivery for t in trackings if t.estimated_delivery]
    return max(dates) if dates else order.estimated_delivery


def _delivered_at(trackings: tuple[Tracking, ...]) -> datetime | None:
    times = [
        c.time for t in trackings for c in t.checkpoints if c.status is TrackingStatus.DELIVERED
    ]
    return max(times) if times else None
