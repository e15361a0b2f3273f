"""Choosing the order and logistics systems from endpoints.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderless.commerce.aftership import AfterShipTracking
from borderless.commerce.reference import ReferenceShop
from borderless.commerce.shopify import ShopifyOrders
from borderless.commerce.systems import (
    CommerceConfigError,
    build_logistics_system,
    build_order_system,
    read_commerce_section,
)
from borderless.settings import PROJECT_ROOT, Settings

REFERENCE = ReferenceShop("http://127.0.0.1:9", "token")


def test_the_projects_endpoints_select_the_reference_shop_by_default() -> None:
    settings = Settings.from_env({"ORDER_SYSTEM": "reference", "LOGISTICS_SYSTEM": "reference"})
    assert settings.commerce["orders"]["type"] == "reference"
    assert build_order_system(settings.commerce["orders"], 2.0, REFERENCE) is REFERENCE
    assert build_logistics_system(settings.commerce["logistics"], 2.0, REFERENCE) is REFERENCE


def test_secrets_come_from_the_environment() -> None:
    section = read_commerce_section(
        PROJECT_ROOT / "endpoints.yml",
        {
            "ORDER_SYSTEM": "shopify",
            "SHOPIFY_SHOP": "demo-shop",
            "SHOPIFY_ACCESS_TOKEN": "shpat_x",
            "LOGISTICS_SYSTEM": "aftership",
            "TRACKING_API_KEY": "as-key",
        },
    )
    assert isinstance(build_order_system(section["orders"], 2.0, REFERENCE), ShopifyOrders)
    assert isinstance(
        build_logistics_system(section["logistics"], 2.0, REFERENCE), AfterShipTracking
    )


def test_a_missing_secret_fails_at_start_up_with_its_name(tmp_path: Path) -> None:
    section = read_commerce_section(PROJECT_ROOT / "endpoints.yml", {"ORDER_SYSTEM": "shopify"})
    with pytest.raises(CommerceConfigError, match="shop"):
        build_order_system(section["orders"], 2.0, REFERENCE)


def test_an_unknown_system_is_refused() -> None:
    with pytest.raises(CommerceConfigError, match="magento"):
        build_order_system({"type": "magento"}, 2.0, REFERENCE)
