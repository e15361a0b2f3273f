"""``order_from_dict`` / ``tracking_from_dict`` undo ``as_dict`` exactly, for every demo order."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from borderless.commerce.models import as_dict, order_from_dict, tracking_from_dict
from borderless.store.seed import load_fixture

FIXTURE = Path(__file__).resolve().parents[2] / "demo" / "orders.yml"
REPORTS = load_fixture(FIXTURE, datetime(2025, 3, 14, 10, 45, tzinfo=timezone.utc))


@pytest.mark.parametrize("report", REPORTS, ids=[r.order.number for r in REPORTS])
def test_round_trip_through_json(report: Any) -> None:
    order_json = json.loads(json.dumps(as_dict(report.order)))
    assert order_from_dict(order_json) == report.order
    for tracking in report.trackings:
        assert tracking_from_dict(json.loads(json.dumps(as_dict(tracking)))) == tracking


def test_lenient_where_other_systems_differ() -> None:
    data = as_dict(REPORTS[0].order)
    data.update(placed_at="2025-03-09T14:12:00Z", total=102.3, phone=None, items=None)
    order = order_from_dict(data)
    assert order.placed_at == datetime(2025, 3, 9, 14, 12, tzinfo=timezone.utc)
    assert order.total == Decimal("102.3")  # a float goes through its repr, never binary
    assert order.items == ()
    assert order.phone is None


@pytest.mark.parametrize(
    "change",
    [{"status": "lost"}, {"total": "a lot"}, {"total": "NaN"}, {"placed_at": "yesterday"}],
)
def test_malformed_values_raise(change: dict[str, Any]) -> None:
    data = {**as_dict(REPORTS[0].order), **change}
    with pytest.raises((ValueError, ArithmeticError)):
        order_from_dict(data)


def test_missing_fields_raise() -> None:
    data = as_dict(REPORTS[0].order)
    del data["email"]
    with pytest.raises(KeyError):
        order_from_dict(data)
