"""The demo catalog and policies files, read through the Catalog protocol and Policies."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from borderless.commerce.catalog import Catalog, CatalogError, YamlCatalog
from borderless.commerce.policies import Duties, Policies, PolicyError
from borderless.settings import PROJECT_ROOT

CATALOG = YamlCatalog.load(PROJECT_ROOT / "demo" / "catalog.yml")
POLICIES = Policies.load(PROJECT_ROOT / "demo" / "policies.yml")


def test_the_yaml_catalog_implements_the_protocol() -> None:
    assert isinstance(CATALOG, Catalog)
    assert len(CATALOG.titles) >= 30


async def test_a_product_has_prices_per_currency_and_stock_per_variant() -> None:
    shoes = await CATALOG.find("Trail running shoes, EU 42")
    assert shoes is not None
    assert shoes.price_in("EUR", "USD") == (Decimal("122.99"), "EUR")
    assert shoes.price_in("CHF", "USD") == (Decimal("129.00"), "USD")
    assert {v.name: v.stock for v in shoes.variants}["EU 39"] == 0
    assert shoes.total_stock == sum(v.stock for v in shoes.variants)


async def test_facts_are_localized_with_english_as_fallback() -> None:
    scarf = await CATALOG.find("Silk scarf, indigo")
    assert scarf is not None
    assert "Maulbeerseide" in (scarf.fact("material", "de") or "")
    assert scarf.fact("size", "ja") == "90 × 90 cm"  # one text for every language
    charger = await CATALOG.find("65 W GaN charger")
    assert charger is not None and charger.fact("care", "en") is None


async def test_an_unknown_title_is_none() -> None:
    assert await CATALOG.find("Flux capacitor") is None


def test_a_malformed_catalog_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "catalog.yml"
    bad.write_text("products:\n  - {title: A, price: 1, stock: -1}\n")
    with pytest.raises(CatalogError):
        YamlCatalog.load(bad)
    bad.write_text("products:\n  - {title: A, price: 1, material: {de: Holz}}\n")
    with pytest.raises(CatalogError):
        YamlCatalog.load(bad)


@pytest.mark.parametrize(
    ("country", "market", "duties", "currency"),
    [
        ("DE", "EU", Duties.INCLUDED, "EUR"),
        ("GB", "GB", Duties.INCLUDED, "GBP"),
        ("US", "US", Duties.DDP, "USD"),
        ("JP", "JP", Duties.THRESHOLD, "JPY"),
        ("CN", "CN", Duties.DOMESTIC, "CNY"),
        ("CH", "default", Duties.ON_DELIVERY, "USD"),
        (None, "default", Duties.ON_DELIVERY, "USD"),
    ],
)
def test_markets(country: str | None, market: str, duties: Duties, currency: str) -> None:
    found = POLICIES.market(country)
    assert (found.name, found.duties, found.currency) == (market, duties, currency)


def test_warranty_and_payment_methods_per_market() -> None:
    assert POLICIES.market("FR").warranty.months == 24 and POLICIES.market("FR").warranty.legal
    assert not POLICIES.market("US").warranty.legal
    assert "konbini" in POLICIES.market("JP").payment_methods
    assert POLICIES.method_name("konbini", "ja") == "コンビニ払い"
    assert POLICIES.method_name("visa", "ar") == "Visa"


def test_a_malformed_policies_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "policies.yml"
    bad.write_text("markets:\n  X: {countries: [XX], duties: threshold}\n")
    with pytest.raises(PolicyError):
        Policies.load(bad)
    bad.write_text("markets:\n  X: {countries: [XX], payment_methods: [bitcoin]}\n")
    with pytest.raises(PolicyError):
        Policies.load(bad)
