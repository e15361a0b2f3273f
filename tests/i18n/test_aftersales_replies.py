"""What return, refund and cancellation replies say, formatted for the customer's locale."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timezone
from decimal import Decimal

from borderless.commerce.aftersales import RefundReport, ReturnOutcome
from borderless.commerce.models import (
    LineItem,
    Order,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)
from borderless.commerce.returns import ReturnPolicy, eligibility
from borderless.i18n.aftersales_replies import (
    cancel_confirmation,
    cancelled,
    item_list,
    refund_status_replies,
    return_created_replies,
    return_refusal_replies,
)
from borderless.i18n.formatting import locale_for
from borderless.settings import PROJECT_ROOT

POLICY = ReturnPolicy.load(
    PROJECT_ROOT / "demo" / "returns.yml", PROJECT_ROOT / "demo" / "catalog.yml"
)
ORDER = Order(
    number="BL-20002",
    email="a@example.jp",
    phone=None,
    country="JP",
    status=OrderStatus.DELIVERED,
    currency="JPY",
    total=Decimal("16760"),
    placed_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
    shipping_method="express",
    items=(
        LineItem("BL-TEA-SET", "Ceramic tea set, celadon", 1, Decimal("12800")),
        LineItem("BL-TEA-OOL", "Tieguanyin oolong, 100 g", 2, Decimal("1980")),
    ),
    delivered_at=datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc),
)


def test_item_lists_follow_the_language() -> None:
    lines = [ReturnLine("A", "Moon desk lamp", 1), ReturnLine("B", "Warm LED bulb", 2)]
    assert item_list(lines, locale_for("en")) == "Moon desk lamp and 2 × Warm LED bulb"
    assert item_list(lines, locale_for("de")) == "Moon desk lamp und 2 × Warm LED bulb"
    assert item_list(lines, locale_for("ja")) == "Moon desk lamp、2 × Warm LED bulb"


def test_a_closed_window_names_the_dates_in_japanese() -> None:
    check = eligibility(ORDER, POLICY, date(2026, 3, 20))
    (reply,) = return_refusal_replies(check, "ja")
    assert reply.response == "utter_return_window_closed"
    assert reply.args["window_days"] == 14 and reply.args["country"] == "日本"
    assert (
        reply.args["delivered_on"] == "3月2日月曜日" and reply.args["last_day"] == "3月16日月曜日"
    )


def test_a_created_return_tells_what_was_left_out_and_where_to_send_it() -> None:
    check = eligibility(ORDER, POLICY, date(2026, 3, 5))
    request = ReturnRequest(
        "R20002-1", "BL-20002", ReturnStatus.REQUESTED, datetime.now(timezone.utc),
        (ReturnLine("BL-TEA-SET", "Ceramic tea set, celadon", 1),),
    )  # fmt: skip
    replies = return_created_replies(ReturnOutcome(check, request), "ja")
    assert [r.response for r in replies] == [
        "utter_return_created", "utter_return_final_sale_excluded", "utter_return_ship_to",
        "utter_return_refund_timeline",
    ]  # fmt: skip
    assert replies[1].args["items"] == "2 × Tieguanyin oolong, 100 g"
    assert "Tokyo" in replies[2].args["return_address"]
    assert replies[3].args == {"refund_total": "￥12,800", "refund_days": 10}


def test_refund_lines_in_arabic_and_a_cancelled_order() -> None:
    refunded = ReturnRequest(
        "R1", "BL-20002", ReturnStatus.REFUNDED, datetime(2026, 3, 6, tzinfo=timezone.utc),
        (ReturnLine("BL-TEA-SET", "Ceramic tea set, celadon", 1),), currency="JPY",
        refund_amount=Decimal("12800"), refunded_at=datetime(2026, 3, 12, tzinfo=timezone.utc),
    )  # fmt: skip
    market = POLICY.market_for("JP")
    (reply,) = refund_status_replies(RefundReport(ORDER, (refunded,)), market, "ar")
    assert reply.response == "utter_refund_refunded"
    assert "12,800" in reply.args["refund_amount"] or "١٢" in reply.args["refund_amount"]
    cancelled_order = dataclasses.replace(ORDER, status=OrderStatus.CANCELLED)
    (none,) = refund_status_replies(RefundReport(cancelled_order, ()), market, "en")
    assert none.response == "utter_refund_order_cancelled"


def test_cancel_restates_items_and_total_and_the_refund_only_when_paid() -> None:
    processing = dataclasses.replace(ORDER, status=OrderStatus.PROCESSING, delivered_at=None)
    (question,) = cancel_confirmation(processing, "en")
    assert question.args["items"] == "Ceramic tea set, celadon and 2 × Tieguanyin oolong, 100 g"
    assert question.args["total"] == "¥16,760"
    assert [r.response for r in cancelled(processing, True, "en")] == [
        "utter_order_cancelled_now", "utter_cancel_refund",
    ]  # fmt: skip
    assert [r.response for r in cancelled(processing, False, "en")] == ["utter_order_cancelled_now"]
