"""What the shop sells: prices per currency, sizes, materials, care and stock per variant.

Actions know the ``Catalog`` protocol only. ``YamlCatalog`` reads the demo shop's
``demo/catalog.yml``; a Shopify catalog (Admin API products + inventory levels) would implement
the same protocol later. Product facts (material, size, care, colour) are the shop's words:
either one English string or a map language → text, and a language without its own text gets the
English one, never nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import yaml

# Below this many units we say how many are left instead of just "in stock".
LOW_STOCK = 5
FACTS = ("material", "size", "care", "colour")


class CatalogError(ValueError):
    """The catalog file is malformed (raised at load time, never while answering)."""


@dataclass(frozen=True)
class Variant:
    """One sellable option (a shoe size, a strap length) with its own stock."""

    name: str
    stock: int


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    category: str
    prices: dict[str, Decimal]  # currency → price, tax included
    stock: int
    variants: tuple[Variant, ...] = ()
    facts: dict[str, dict[str, str]] = field(default_factory=dict)  # fact → language → text
    final_sale: bool = False

    def fact(self, name: str, language: str) -> str | None:
        texts = self.facts.get(name) or {}
        return texts.get(language) or texts.get("en")

    def price_in(self, currency: str, fallback: str) -> tuple[Decimal, str]:
        """The price in ``currency`` when the shop set one, else in its own currency."""
        if currency in self.prices:
            return self.prices[currency], currency
        return self.prices[fallback], fallback

    @property
    def total_stock(self) -> int:
        return sum(v.stock for v in self.variants) if self.variants else self.stock


@runtime_checkable
class Catalog(Protocol):
    currency: str

    async def find(self, title: str) -> Product | None:
        """The product whose canonical title is ``title`` (the ``product`` entity's value)."""
        ...


def _facts(raw: dict[str, Any]) -> dict[str, dict[str, str]]:
    facts: dict[str, dict[str, str]] = {}
    for name in FACTS:
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, dict):
            texts = {str(k): str(v) for k, v in value.items() if v}
            if "en" not in texts:
                raise CatalogError(f"{raw.get('title')}: {name} needs an English text")
            facts[name] = texts
        else:
            facts[name] = {"en": str(value)}
    return facts


def _product(raw: dict[str, Any], currency: str) -> Product:
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise CatalogError(f"every product needs a title, got {raw!r}")
    prices = {currency: Decimal(str(raw["price"]))}
    for code, amount in (raw.get("prices") or {}).items():
        prices[str(code).upper()] = Decimal(str(amount))
    variants = tuple(
        Variant(str(v["name"]), int(v.get("stock", 0))) for v in raw.get("variants") or []
    )
    stock = int(raw.get("stock", 0))
    if stock < 0 or any(v.stock < 0 for v in variants):
        raise CatalogError(f"{title}: negative stock")
    return Product(
        sku=str(raw.get("sku") or title),
        title=title,
        category=str(raw.get("category") or ""),
        prices=prices,
        stock=stock,
        variants=variants,
        facts=_facts(raw),
        final_sale=bool(raw.get("final_sale", False)),
    )


class YamlCatalog:
    """The demo shop's catalog file; stock is as written in the file."""

    def __init__(self, products: dict[str, Product], currency: str) -> None:
        self._products = products
        self.currency = currency

    @classmethod
    def load(cls, path: Path) -> YamlCatalog:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        currency = str(raw.get("currency") or "USD").upper()
        products: dict[str, Product] = {}
        for item in raw.get("products") or []:
            product = _product(item, currency)
            if product.title in products:
                raise CatalogError(f"{path}: duplicate product title {product.title!r}")
            products[product.title] = product
        return cls(products, currency)

    async def find(self, title: str) -> Product | None:
        return self._products.get(title)

    @property
    def titles(self) -> list[str]:
        return sorted(self._products)
