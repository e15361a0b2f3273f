"""The shop's return policy and what it means for one order: pure rules, no I/O after loading.

``demo/returns.yml`` says, per destination market, how many days after delivery a return can be
asked for, how fast the refund follows and whether a prepaid label is sent; which products are
final sale comes from the same file and from the catalog (``final_sale: true``). Borderless
applies the policy itself, because neither Shopify nor WooCommerce knows a per-market window:
the order system is only asked to record a return the policy allows.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from borderless.commerce.models import (
    LineItem,
    Order,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
)


class PolicyError(ValueError):
    """The return policy file is malformed; the message says where."""


@dataclass(frozen=True)
class Market:
    name: str
    window_days: int
    refund_days: int
    free_label: bool
    return_address: str
    countries: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ReturnPolicy:
    markets: Mapping[str, Market]
    default_market: str
    final_sale_titles: frozenset[str] = frozenset()
    final_sale_skus: frozenset[str] = frozenset()
    condition: str = ""
    _by_country: Mapping[str, Market] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, path: str | Path, catalog: str | Path | None = None) -> ReturnPolicy:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict) or not isinstance(raw.get("markets"), dict):
            raise PolicyError(f"{path}: expected a mapping with 'markets'")
        markets: dict[str, Market] = {}
        by_country: dict[str, Market] = {}
        for name, spec in raw["markets"].items():
            try:
                market = Market(
                    name=str(name),
                    window_days=_non_negative(spec["window_days"]),
                    refund_days=_non_negative(spec["refund_days"]),
                    free_label=bool(spec.get("free_label", False)),
                    return_address=str(spec.get("return_address") or ""),
                    countries=frozenset(str(c).upper() for c in spec.get("countries") or []),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise PolicyError(f"{path}: market {name}: {exc!r}") from exc
            markets[market.name] = market
            for country in market.countries:
                if country in by_country:
                    raise PolicyError(f"{path}: {country} is in two markets")
                by_country[country] = market
        default = str(raw.get("default_market") or "")
        if default not in markets:
            raise PolicyError(f"{path}: default_market {default!r} is not a market")
        final = raw.get("final_sale") or {}
        categories = {str(c).lower() for c in final.get("categories") or []}
        titles: set[str] = set()
        if catalog is not None and Path(catalog).exists():
            products = (yaml.safe_load(Path(catalog).read_text(encoding="utf-8")) or {}).get(
                "products"
            ) or []
            for product in products:
                if product.get("final_sale") or str(product.get("category")).lower() in categories:
                    titles.add(_fold(str(product["title"])))
        return cls(
            markets=markets,
            default_market=default,
            final_sale_titles=frozenset(titles),
            final_sale_skus=frozenset(str(s).upper() for s in final.get("skus") or []),
            condition=str(raw.get("condition") or ""),
            _by_country=by_country,
        )

    def market_for(self, country: str) -> Market:
        return self._by_country.get(country.upper()) or self.markets[self.default_market]

    def is_final_sale(self, item: LineItem | ReturnLine) -> bool:
        return item.sku.upper() in self.final_sale_skus or _fold(item.title) in (
            self.final_sale_titles
        )


class Verdict(str, enum.Enum):
    """Whether an order can be returned now, and if not, why (each has its own reply)."""

    OK = "ok"
    NOT_DELIVERED = "not_delivered"  # still with us or the carrier
    NOT_PAID = "not_paid"
    CANCELLED = "cancelled"
    ALREADY_RETURNED = "already_returned"  # every returnable line is in a return already
    WINDOW_CLOSED = "window_closed"
    FINAL_SALE = "final_sale"  # nothing in the order can be returned at all


@dataclass(frozen=True)
class Eligibility:
    order: Order
    verdict: Verdict
    market: Market
    returnable: tuple[ReturnLine, ...] = ()  # what can still be returned, with quantities
    final_sale: tuple[ReturnLine, ...] = ()
    delivered_on: date | None = None
    last_day: date | None = None
    days_since_delivery: int | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is Verdict.OK


# Returns that still hold their items: a declined or closed one gives them back.
_OPEN = {
    ReturnStatus.REQUESTED,
    ReturnStatus.APPROVED,
    ReturnStatus.RECEIVED,
    ReturnStatus.REFUNDED,
}


def eligibility(
    order: Order,
    policy: ReturnPolicy,
    today: date,
    existing: Sequence[ReturnRequest] = (),
) -> Eligibility:
    """What of ``order`` can be returned on ``today`` (UTC) under ``policy``."""
    market = policy.market_for(order.country)
    if order.status is OrderStatus.CANCELLED:
        return Eligibility(order, Verdict.CANCELLED, market)
    if order.status is OrderStatus.UNPAID:
        return Eligibility(order, Verdict.NOT_PAID, market)
    if order.status is OrderStatus.RETURNED:
        return Eligibility(order, Verdict.ALREADY_RETURNED, market)
    if order.status is not OrderStatus.DELIVERED or order.delivered_at is None:
        return Eligibility(order, Verdict.NOT_DELIVERED, market)
    delivered_on = order.delivered_at.date()
    days = (today - delivered_on).days
    last_day = date.fromordinal(delivered_on.toordinal() + market.window_days)
    taken: dict[str, int] = {}
    for request in existing:
        if request.status in _OPEN:
            for line in request.items:
                taken[line.sku] = taken.get(line.sku, 0) + line.quantity
    final = tuple(
        ReturnLine(i.sku, i.title, i.quantity) for i in order.items if policy.is_final_sale(i)
    )
    returnable = []
    for item in order.items:
        if policy.is_final_sale(item):
            continue
        left = item.quantity - taken.get(item.sku, 0)
        if left > 0:
            returnable.append(ReturnLine(item.sku, item.title, left))
    facts: dict[str, Any] = {
        "final_sale": final,
        "delivered_on": delivered_on,
        "last_day": last_day,
        "days_since_delivery": days,
    }
    if days > market.window_days:
        return Eligibility(order, Verdict.WINDOW_CLOSED, market, **facts)
    if not returnable:
        verdict = Verdict.ALREADY_RETURNED if taken else Verdict.FINAL_SALE
        return Eligibility(order, verdict, market, **facts)
    return Eligibility(order, Verdict.OK, market, returnable=tuple(returnable), **facts)


# "All of it" in the nine languages, as customers type it (compared case- and accent-folded).
ALL_WORDS = frozenset(
    _w
    for _w in (
        "all", "everything", "all items", "all of them", "the whole order", "whole order",
        "alles", "alle", "die ganze bestellung", "tout", "tous", "toute la commande",
        "todo", "todos", "todo el pedido", "tutto", "tutti", "tutto l'ordine", "tudo",
        "todos os itens", "o pedido inteiro", "全部", "すべて", "全て", "全部です", "全部で",
        "所有", "全部退", "الكل", "كل", "كلها", "جميعها", "الطلب كله",
    )
)  # fmt: skip


def choose_items(answer: str, returnable: Sequence[ReturnLine]) -> tuple[ReturnLine, ...]:
    """The lines a customer means by ``answer``: "all", a product title or SKU, or a word of one.

    Empty when nothing matches; the caller asks again, listing the lines.
    """
    folded = _fold(answer).strip(" .!?。！？")
    if not folded:
        return ()
    if folded in ALL_WORDS or folded in {_fold(w) for w in ALL_WORDS}:
        return tuple(returnable)
    chosen = [
        line
        for line in returnable
        if folded == _fold(line.sku)
        or _fold(line.title) in folded
        or (len(folded) >= 3 and folded in _fold(line.title))
    ]
    if chosen:
        return tuple(chosen)
    words = set(_WORD.findall(folded))
    return tuple(
        line
        for line in returnable
        if words & {w for w in _WORD.findall(_fold(line.title)) if len(w) >= 4}
    )


_WORD = re.compile(r"\w+")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def _non_negative(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"expected a whole number of days, not {value!r}")
    return value


def returnable_titles(lines: Iterable[ReturnLine]) -> list[str]:
    return [line.title for line in lines]
