"""The demo fixture and its seeding: coverage of the data, relative times, idempotency."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine

from borderless.commerce.models import OrderLookup, OrderStatus, TrackingStatus
from borderless.store import schema
from borderless.store.repository import ShopRepository
from borderless.store.seed import FixtureError, load_fixture, resolve_date, resolve_instant, seed

FIXTURE = Path(__file__).resolve().parents[2] / "demo" / "orders.yml"
NOW = datetime(2025, 3, 14, 10, 45, tzinfo=timezone.utc)

# Which carrier states the latest scan of at least one parcel may be in, per order status.
CONSISTENT_LATEST = {
    OrderStatus.SHIPPED: {TrackingStatus.INFO_RECEIVED},
    OrderStatus.IN_TRANSIT: {
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.CUSTOMS,
        TrackingStatus.AVAILABLE_FOR_PICKUP,
    },
    OrderStatus.OUT_FOR_DELIVERY: {TrackingStatus.OUT_FOR_DELIVERY},
    OrderStatus.DELIVERED: {TrackingStatus.DELIVERED},
    OrderStatus.RETURNED: {TrackingStatus.DELIVERED},
    OrderStatus.EXCEPTION: {
        TrackingStatus.CUSTOMS,
        TrackingStatus.DELIVERY_FAILED,
        TrackingStatus.EXCEPTION,
    },
}


def test_fixture_covers_the_demo_scenarios() -> None:
    reports = load_fixture(FIXTURE, NOW)
    orders = [r.order for r in reports]
    assert len(orders) >= 22
    assert len({o.country for o in orders}) >= 8
    assert {o.status for o in orders} == set(OrderStatus)
    assert any(len(o.shipments) >= 2 for o in orders), "a split order with two parcels"
    latest = {t.status for r in reports for t in r.trackings}
    assert TrackingStatus.CUSTOMS in latest
    assert TrackingStatus.DELIVERY_FAILED in latest
    readme = next(o for o in orders if o.number == "BL-10001")
    assert (readme.email, readme.country, readme.status) == (
        "anna.schmidt@example.de",
        "DE",
        OrderStatus.IN_TRANSIT,
    )
    assert readme.shipments[0].carrier == "DHL"
    us = [o for o in orders if o.country == "US" and o.status is OrderStatus.IN_TRANSIT]
    assert "john.miller@example.com" in {o.email for o in us}


def test_fixture_statuses_agree_with_the_parcels() -> None:
    for report in load_fixture(FIXTURE, NOW):
        order = report.order
        if order.status in (OrderStatus.UNPAID, OrderStatus.PROCESSING, OrderStatus.CANCELLED):
            assert not report.trackings, f"{order.number} has parcels but never shipped"
            continue
        assert report.trackings, f"{order.number} is {order.status.value} without a parcel"
        allowed = CONSISTENT_LATEST[order.status]
        assert {t.status for t in report.trackings} & allowed, order.number
        if order.status is OrderStatus.DELIVERED:
            assert order.delivered_at is not None


@pytest.mark.parametrize("minutes", range(0, 24 * 60, 30))
def test_fixture_tells_each_story_in_order_at_any_hour(minutes: int) -> None:
    now = datetime(2025, 3, 14, tzinfo=timezone.utc) + timedelta(minutes=minutes)
    for report in load_fixture(FIXTURE, now):
        order = report.order
        assert order.placed_at <= now, order.number
        for tracking in report.trackings:
            times = [c.time for c in tracking.checkpoints]
            assert times == sorted(times), f"{order.number} {tracking.tracking_number} at {now}"
            assert all(order.placed_at <= t <= now for t in times), order.number


def test_relative_instants() -> None:
    assert resolve_instant("-6d 09:30", NOW) == datetime(2025, 3, 8, 9, 30, tzinfo=timezone.utc)
    assert resolve_instant("-5h", NOW) == NOW - timedelta(hours=5)
    assert resolve_instant("-90m", NOW) == NOW - timedelta(minutes=90)
    assert resolve_instant("-1d", NOW) == NOW - timedelta(days=1)
    assert resolve_instant("+2d 08:00", NOW) == datetime(2025, 3, 16, 8, tzinfo=timezone.utc)
    assert resolve_instant("now", NOW) == NOW
    assert resolve_instant("2024-05-01T10:00:00+02:00", NOW) == datetime(
        2024, 5, 1, 8, tzinfo=timezone.utc
    )
    with pytest.raises(ValueError, match="clock time only goes with a day"):
        resolve_instant("-5h 09:30", NOW)
    with pytest.raises(ValueError, match="not a relative or ISO 8601 time"):
        resolve_instant("last tuesday", NOW)


def test_relative_dates() -> None:
    assert resolve_date("+2d", NOW) == date(2025, 3, 16)
    assert resolve_date("-3d", NOW) == date(2025, 3, 11)
    assert resolve_date("+0d", NOW) == date(2025, 3, 14)
    assert resolve_date("2025-01-02", NOW) == date(2025, 1, 2)
    assert resolve_date(date(2025, 1, 2), NOW) == date(2025, 1, 2)


def test_seed_resolves_times_against_now_and_is_idempotent(tmp_path: Path) -> None:
    engine = schema.make_engine(f"sqlite:///{tmp_path / 'nested' / 'shop.db'}")
    first = seed(engine, FIXTURE, now=NOW)
    assert not first.skipped
    assert first.orders == len(load_fixture(FIXTURE, NOW))

    again = seed(engine, FIXTURE, now=NOW + timedelta(days=3))
    assert again.skipped
    assert again.orders == 0
    counts = _counts(engine)
    assert counts["orders"] == first.orders
    assert counts["customers"] < counts["orders"]  # returning customers are stored once

    anna = ShopRepository(engine).find_verified(
        OrderLookup("BL-10001", email="anna.schmidt@example.de")
    )
    assert anna.placed_at == datetime(2025, 3, 9, 14, 12, tzinfo=timezone.utc)
    assert anna.estimated_delivery == date(2025, 3, 15)
    assert anna.total == Decimal("102.30")  # 79.90 + 12.50 + 9.90 shipping, exact

    later = NOW + timedelta(days=3)
    reset = seed(engine, FIXTURE, now=later, reset=True)
    assert not reset.skipped
    assert _counts(engine) == counts
    anna = ShopRepository(engine).find_verified(OrderLookup("BL-10001", phone="+4915112345678"))
    assert anna.placed_at == datetime(2025, 3, 12, 14, 12, tzinfo=timezone.utc)
    engine.dispose()


def test_repository_reads_back_what_the_fixture_says(tmp_path: Path) -> None:
    engine = schema.make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    seed(engine, FIXTURE, now=NOW)
    repository = ShopRepository(engine)
    for report in load_fixture(FIXTURE, NOW):
        lookup = OrderLookup(report.order.number, email=report.order.email.upper())
        found = repository.find_verified(lookup)
        # The fixture does not state earlier orders; the repository counts them (VIP rules).
        assert dataclasses.replace(found, previous_orders=None) == report.order
        earlier = [
            r
            for r in load_fixture(FIXTURE, NOW)
            if r.order.email.lower() == report.order.email.lower()
            and r.order.placed_at < report.order.placed_at
        ]
        assert found.previous_orders == len(earlier)
        for expected in report.trackings:
            assert repository.find_tracking(expected.carrier, expected.tracking_number) == expected
    engine.dispose()


def test_a_bad_fixture_is_rejected_before_the_database_is_touched(tmp_path: Path) -> None:
    bad = tmp_path / "orders.yml"
    bad.write_text(
        FIXTURE.read_text(encoding="utf-8").replace('phone: "+15125550142"', "phone: +15125550142"),
        encoding="utf-8",
    )
    engine = schema.make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with pytest.raises(FixtureError, match=r"BL-10002.*quoted"):
        seed(engine, bad, now=NOW)
    assert not (tmp_path / "shop.db").exists() or "orders" not in _table_names(engine)
    engine.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    tables = [schema.customers, schema.orders, schema.line_items, schema.shipments]
    tables.append(schema.checkpoints)
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in tables
        }


def _table_names(engine: Engine) -> list[str]:
    return list(inspect(engine).get_table_names())
