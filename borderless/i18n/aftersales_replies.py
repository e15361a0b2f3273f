"""Which responses answer a return, a refund question, a cancellation or an address change.

Pure Python like ``order_replies``: models and a language in, ``Reply`` objects out, every date,
amount, country and list formatted with Babel for the customer's locale. Product titles stay as
the shop names them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from babel import Locale
from babel.lists import format_list

from borderless.commerce.aftersales import RefundReport, ReturnOutcome
from borderless.commerce.models import Order, OrderStatus, ReturnLine, ReturnStatus
from borderless.commerce.returns import Eligibility, Market, Verdict
from borderless.i18n.formatting import country_name, format_day, format_money, locale_for
from borderless.i18n.order_replies import Reply

__all__ = [
    "Reply",
    "address_confirmation",
    "cancel_confirmation",
    "cancelled",
    "change_refused",
    "item_list",
    "refund_status_replies",
    "return_created_replies",
    "return_refusal_replies",
]


def item_list(lines: Iterable[ReturnLine], locale: Locale) -> str:
    """ "Moon desk lamp and 2 × Warm LED bulb", joined the way the language lists things."""
    names = [
        line.title if line.quantity == 1 else f"{line.quantity} × {line.title}" for line in lines
    ]
    return format_list(names, locale=locale) if names else ""


def order_items(order: Order, locale: Locale) -> str:
    return item_list((ReturnLine(i.sku, i.title, i.quantity) for i in order.items), locale)


def return_refusal_replies(check: Eligibility, language: str) -> list[Reply]:
    """Why this order cannot be returned now, and what the customer can do instead."""
    order = check.order
    locale = locale_for(language, order.country)
    args: dict[str, object] = {
        "order_number": order.number,
        "window_days": check.market.window_days,
        "country": country_name(order.country, locale),
    }
    verdict = check.verdict
    if verdict is Verdict.NOT_DELIVERED:
        if order.can_be_changed:
            return [Reply("utter_return_not_shipped", args)]
        return [Reply("utter_return_not_delivered_yet", args)]
    if verdict is Verdict.NOT_PAID:
        return [Reply("utter_return_not_shipped", args)]
    if verdict is Verdict.CANCELLED:
        return [Reply("utter_return_order_cancelled", args)]
    if verdict is Verdict.ALREADY_RETURNED:
        return [Reply("utter_return_already_requested", args)]
    if verdict is Verdict.FINAL_SALE:
        args["items"] = item_list(check.final_sale, locale)
        return [Reply("utter_return_all_final_sale", args)]
    assert check.delivered_on is not None and check.last_day is not None
    args["delivered_on"] = format_day(check.delivered_on, locale)
    args["last_day"] = format_day(check.last_day, locale)
    return [Reply("utter_return_window_closed", args)]


def return_created_replies(outcome: ReturnOutcome, language: str) -> list[Reply]:
    check, request = outcome.eligibility, outcome.request
    assert request is not None
    order = check.order
    locale = locale_for(language, order.country)
    market = check.market
    replies = [
        Reply(
            "utter_return_created",
            {
                "return_reference": request.reference,
                "order_number": order.number,
                "items": item_list(request.items, locale),
            },
        )
    ]
    if check.final_sale:
        replies.append(
            Reply(
                "utter_return_final_sale_excluded", {"items": item_list(check.final_sale, locale)}
            )
        )
    if market.free_label:
        replies.append(Reply("utter_return_label", {"window_days": market.window_days}))
    else:
        replies.append(Reply("utter_return_ship_to", {"return_address": market.return_address}))
    replies.append(
        Reply(
            "utter_return_refund_timeline",
            {
                "refund_total": format_money(_value(order, request.items), order.currency, locale),
                "refund_days": market.refund_days,
            },
        )
    )
    return replies


def refund_status_replies(report: RefundReport, market: Market, language: str) -> list[Reply]:
    order = report.order
    locale = locale_for(language, order.country)
    if order.status is OrderStatus.CANCELLED and not report.returns:
        return [Reply("utter_refund_order_cancelled", {"order_number": order.number})]
    if not report.returns:
        return [Reply("utter_refund_none", {"order_number": order.number})]
    replies = []
    for request in report.returns:
        args: dict[str, object] = {
            "return_reference": request.reference,
            "items": item_list(request.items, locale),
            "created_on": format_day(request.created_at.date(), locale),
            "refund_days": market.refund_days,
        }
        if request.status is ReturnStatus.REFUNDED:
            amount = request.refund_amount
            if amount is None:
                amount = _value(order, request.items)
            args["refund_amount"] = format_money(amount, request.currency or order.currency, locale)
            refunded = request.refunded_at or request.created_at
            args["refunded_on"] = format_day(refunded.date(), locale)
        replies.append(Reply(f"utter_refund_{request.status.value}", args))
    return replies


def cancel_confirmation(order: Order, language: str) -> list[Reply]:
    locale = locale_for(language, order.country)
    return [
        Reply(
            "utter_confirm_cancel",
            {
                "order_number": order.number,
                "items": order_items(order, locale),
                "total": format_money(order.total, order.currency, locale),
            },
        )
    ]


def cancelled(order: Order, was_paid: bool, language: str) -> list[Reply]:
    locale = locale_for(language, order.country)
    replies = [Reply("utter_order_cancelled_now", {"order_number": order.number})]
    if was_paid:
        total = format_money(order.total, order.currency, locale)
        replies.append(Reply("utter_cancel_refund", {"total": total}))
    return replies


def address_confirmation(order: Order, address: str) -> list[Reply]:
    return [Reply("utter_confirm_address", {"order_number": order.number, "new_address": address})]


def change_refused(kind: str, code: str, order_number: str, market: Market) -> list[Reply]:
    """A cancellation (``kind="cancel"``) or address change the order no longer allows."""
    args: dict[str, object] = {"order_number": order_number, "window_days": market.window_days}
    if code == "already_cancelled":
        return [Reply("utter_order_already_cancelled", args)]
    if kind == "cancel":
        return [Reply("utter_cannot_cancel_shipped", args)]
    return [Reply("utter_cannot_change_address_shipped", args)]


def _value(order: Order, lines: Sequence[ReturnLine]) -> Decimal:
    prices = {item.sku: item.unit_price for item in order.items}
    return sum((prices.get(line.sku, Decimal(0)) * line.quantity for line in lines), Decimal(0))
