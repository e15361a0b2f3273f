"""Replies are chosen and formatted for the customer's language and country."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from borderless.commerce.models import (
    Checkpoint,
    Order,
    OrderReport,
    OrderStatus,
    Shipment,
    Tracking,
    TrackingStatus,
)
from borderless.commerce.shipping import ShippingTable
from borderless.i18n.order_replies import order_status_replies
from borderless.i18n.shipping_replies import shipping_replies
from borderless.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 23, 3, tzinfo=timezone.utc)


def order(status: OrderStatus, shipments: tuple[Shipment, ...] = ()) -> Order:
    return Order(
        number="BL-10001", email="a@example.de", phone=None, country="DE", status=status,
        currency="EUR", total=Decimal("92.40"), placed_at=NOW, shipping_method="express",
        shipments=shipments,
    )  # fmt: skip


def tracking(number: str, status: TrackingStatus) -> Tracking:
    checkpoint = Checkpoint(NOW, status, "Leipzig", "scan")
    return Tracking("DHL", number, status, (checkpoint,), date(2026, 11, 25))


def test_unshipped_orders_say_only_their_state() -> None:
    replies = order_status_replies(OrderReport(order(OrderStatus.UNPAID)), "de")
    assert [r.response for r in replies] == ["utter_order_status_unpaid"]
    assert replies[0].args["total"] == "92,40\xa0€"


def test_multi_parcel_orders_list_each_parcel() -> None:
    parcels = (Shipment("DHL", "111"), Shipment("DHL", "222"))
    report = OrderReport(
        order(OrderStatus.IN_TRANSIT, parcels),
        (tracking("111", TrackingStatus.DELIVERED), tracking("222", TrackingStatus.CUSTOMS)),
    )
    names = [r.response for r in order_status_replies(report, "en")]
    assert names == [
        "utter_order_status_in_transit",
        "utter_parcel_of", "utter_checkpoint_delivered",
        "utter_parcel_of", "utter_checkpoint_customs",
        "utter_expected_delivery",
    ]  # fmt: skip


def test_a_parcel_without_tracking_says_so() -> None:
    report = OrderReport(order(OrderStatus.SHIPPED, (Shipment("DHL", "111"),)))
    names = [r.response for r in order_status_replies(report, "en")]
    assert names == ["utter_order_status_shipped", "utter_parcel", "utter_no_tracking_yet"]


def test_shipping_answer_in_japanese() -> None:
    table = ShippingTable.load(PROJECT_ROOT / "demo" / "shipping.yml")
    replies = shipping_replies(table, "JP", "ja", NOW)
    assert replies[0].args["country"] == "日本"
    assert [r.response for r in replies][1:3] == [
        "utter_shipping_method_standard",
        "utter_shipping_method_express",
    ]
    assert "月" in replies[1].args["earliest"]


def test_shipping_to_an_unshippable_country() -> None:
    table = ShippingTable.load(PROJECT_ROOT / "demo" / "shipping.yml")
    replies = shipping_replies(table, "RU", "fr", NOW)
    assert replies[0].response == "utter_shipping_unshippable"
    assert replies[0].args["country"] == "Russie"
