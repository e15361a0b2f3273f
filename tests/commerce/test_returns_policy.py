"""The return policy (demo/returns.yml) applied to orders: windows per market, final sale, items."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from borderless.commerce.models import (
    LineItem,
    Order,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from borderless.commerce.returns import (
    PolicyError,
    ReturnPolicy,
    Verdict,
    choose_items,
    eligibility,
)
from borderless.settings import PROJECT_ROOT

POLICY = ReturnPolicy.load(
    PROJECT_ROOT / "demo" / "returns.yml", PROJECT_ROOT / "demo" / "catalog.yml"
)
TODAY = date(2026, 3, 20)
LAMP = LineItem("BL-LAMP", "Moon desk lamp", 1, Decimal("34.99"))
SERUM = LineItem("BL-SERUM", "Vitamin C serum, 30 ml", 2, Decimal("19.00"))


def order(country: str = "DE", delivered_days_ago: int | None = 3, **changes: object) -> Order:
    delivered = None
    if delivered_days_ago is not None:
        delivered = datetime.combine(
            TODAY - timedelta(days=delivered_days_ago), datetime.min.time(), timezone.utc
        )
    base = Order(
        number="BL-20001",
        email="a@example.com",
        phone=None,
        country=country,
        status=OrderStatus.DELIVERED if delivered else OrderStatus.IN_TRANSIT,
        currency="EUR",
        total=Decimal("72.99"),
        placed_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
        shipping_method="standard",
        items=(LAMP, SERUM),
        delivered_at=delivered,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("country", "days", "verdict"),
    [
        ("DE", 14, Verdict.OK),  # the last day of the EU's 14 still counts
        ("DE", 15, Verdict.WINDOW_CLOSED),
        ("FR", 0, Verdict.OK),
        ("GB", 15, Verdict.WINDOW_CLOSED),
        ("US", 30, Verdict.OK),
        ("US", 31, Verdict.WINDOW_CLOSED),
        ("CN", 7, Verdict.OK),
        ("CN", 8, Verdict.WINDOW_CLOSED),
        ("BR", 8, Verdict.WINDOW_CLOSED),
        ("SA", 6, Verdict.OK),
        ("ZA", 30, Verdict.OK),  # no market lists it: rest of the world
    ],
)
def test_the_window_depends_on_the_destination(country: str, days: int, verdict: Verdict) -> None:
    check = eligibility(order(country, days), POLICY, TODAY)
    assert check.verdict is verdict
    assert check.days_since_delivery == days


def test_final_sale_lines_are_never_returnable() -> None:
    check = eligibility(order(), POLICY, TODAY)
    assert check.returnable == (ReturnLine("BL-LAMP", "Moon desk lamp", 1),)
    assert check.final_sale == (ReturnLine("BL-SERUM", "Vitamin C serum, 30 ml", 2),)
    only_serum = eligibility(order(items=(SERUM,)), POLICY, TODAY)
    assert only_serum.verdict is Verdict.FINAL_SALE


def test_lines_in_an_open_return_are_taken_but_a_declined_one_gives_them_back() -> None:
    def request(status: ReturnStatus) -> ReturnRequest:
        lines = (ReturnLine("BL-LAMP", "Moon desk lamp", 1),)
        return ReturnRequest("R1", "BL-20001", status, datetime.now(timezone.utc), lines)

    taken = eligibility(order(), POLICY, TODAY, [request(ReturnStatus.REQUESTED)])
    assert taken.verdict is Verdict.ALREADY_RETURNED
    declined = eligibility(order(), POLICY, TODAY, [request(ReturnStatus.DECLINED)])
    assert declined.verdict is Verdict.OK


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (OrderStatus.PROCESSING, Verdict.NOT_DELIVERED),
        (OrderStatus.IN_TRANSIT, Verdict.NOT_DELIVERED),
        (OrderStatus.UNPAID, Verdict.NOT_PAID),
        (OrderStatus.CANCELLED, Verdict.CANCELLED),
        (OrderStatus.RETURNED, Verdict.ALREADY_RETURNED),
    ],
)
def test_orders_that_are_not_delivered(status: OrderStatus, verdict: Verdict) -> None:
    assert (
        eligibility(order(delivered_days_ago=None, status=status), POLICY, TODAY).verdict is verdict
    )


LINES = (
    ReturnLine("BL-EAR-PRO2", "Wireless Earbuds Pro 2", 1),
    ReturnLine("BL-CASE-EAR", "Silicone earbuds case, sage", 1),
)


@pytest.mark.parametrize(
    ("answer", "skus"),
    [
        ("all", ["BL-EAR-PRO2", "BL-CASE-EAR"]),
        ("Alles", ["BL-EAR-PRO2", "BL-CASE-EAR"]),
        ("tout", ["BL-EAR-PRO2", "BL-CASE-EAR"]),
        ("全部", ["BL-EAR-PRO2", "BL-CASE-EAR"]),
        ("الكل", ["BL-EAR-PRO2", "BL-CASE-EAR"]),
        ("Wireless Earbuds Pro 2", ["BL-EAR-PRO2"]),
        ("just the case please", ["BL-CASE-EAR"]),
        ("bl-case-ear", ["BL-CASE-EAR"]),
        ("the earbuds", ["BL-EAR-PRO2", "BL-CASE-EAR"]),  # both titles say "earbuds"
        ("a", []),
        ("", []),
        ("the blender", []),
    ],
)
def test_choosing_items(answer: str, skus: list[str]) -> None:
    assert [line.sku for line in choose_items(answer, LINES)] == skus


def test_a_country_in_two_markets_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "returns.yml"
    bad.write_text(
        "default_market: a\nmarkets:\n"
        "  a: {countries: [DE], window_days: 14, refund_days: 14}\n"
        "  b: {countries: [DE], window_days: 30, refund_days: 14}\n"
    )
    with pytest.raises(PolicyError, match="DE"):
        ReturnPolicy.load(bad)


@pytest.mark.parametrize("days", ["14", -1, True, None])
def test_a_window_must_be_whole_days(tmp_path: Path, days: object) -> None:
    bad = tmp_path / "returns.yml"
    bad.write_text(f"default_market: a\nmarkets:\n  a: {{window_days: {days!r}, refund_days: 1}}\n")
    with pytest.raises(PolicyError):
        ReturnPolicy.load(bad)
