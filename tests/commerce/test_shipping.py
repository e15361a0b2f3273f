"""Shipping estimates: business days, cut-off in the warehouse time zone, holidays, weekends."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from borderless.commerce.shipping import ShippingTable, UnknownDestination, Unshippable
from borderless.settings import PROJECT_ROOT

TABLE = ShippingTable.load(PROJECT_ROOT / "demo" / "shipping.yml")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_before_cutoff_is_handled_the_same_day() -> None:
    # Monday 23 Nov 2026, 05:00 UTC = 13:00 in Shenzhen, before the 15:00 cut-off.
    estimate = TABLE.estimate("DE", "express", utc(2026, 11, 23, 5))
    # Ships Mon 23 (or Tue 24); 3 German working days after Mon 23 → Thu 26.
    assert estimate.earliest == date(2026, 11, 26)
    assert estimate.latest == date(2026, 12, 1)


def test_after_cutoff_starts_the_next_working_day() -> None:
    # 08:00 UTC = 16:00 in Shenzhen: too late for today.
    estimate = TABLE.estimate("DE", "express", utc(2026, 11, 23, 8))
    assert estimate.earliest == date(2026, 11, 27)


def test_weekend_orders_start_on_monday() -> None:
    saturday = TABLE.estimate("DE", "express", utc(2026, 11, 21, 2))
    monday = TABLE.estimate("DE", "express", utc(2026, 11, 23, 2))
    assert saturday == monday


def test_chinese_public_holidays_hold_the_warehouse() -> None:
    # 30 Sep 2026 after cut-off: Golden Week (1-7 Oct) keeps the warehouse closed.
    estimate = TABLE.estimate("DE", "express", utc(2026, 9, 30, 9))
    assert estimate.earliest >= date(2026, 10, 8)


def test_destination_weekend_follows_the_destination() -> None:
    # Saudi Arabia's weekend is Friday and Saturday: an arrival never falls on them.
    for day in range(1, 29):
        estimate = TABLE.estimate("SA", "express", utc(2026, 2, day, 3))
        assert estimate.earliest.weekday() not in (4, 5)
        assert estimate.latest.weekday() not in (4, 5)


def test_every_method_cheapest_first() -> None:
    estimates = TABLE.estimates("BR", utc(2026, 11, 23, 3))
    assert [e.method for e in estimates] == ["standard", "express"]
    assert all(e.earliest <= e.latest for e in estimates)


def test_unshippable_and_unknown_destinations_are_honest() -> None:
    with pytest.raises(Unshippable):
        TABLE.estimates("RU", utc(2026, 11, 23))
    with pytest.raises(UnknownDestination):
        TABLE.estimates("AQ", utc(2026, 11, 23))


def test_norway_is_a_country_not_false() -> None:
    assert TABLE.zones["NO"] == "EUROPE_OTHER"
