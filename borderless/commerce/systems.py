"""Which order and logistics systems answer the customer: the ``commerce:`` section of
``endpoints.yml``, secrets from the environment.

    commerce:
      orders:
        type: shopify                  # reference | shopify | woocommerce
        shop: ${SHOPIFY_SHOP}
        access_token: ${SHOPIFY_ACCESS_TOKEN}
      logistics:
        type: aftership                # reference | aftership | 17track
        api_key: ${AFTERSHIP_API_KEY}

A missing section or ``type: reference`` means the embedded reference shop. A selected system
with a missing secret fails at start-up with the variable's name, not at the first customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from borderless.commerce.protocols import LogisticsSystem, OrderSystem

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class CommerceConfigError(ValueError):
    """The commerce section names an unknown system or lacks a setting it needs."""


def read_commerce_section(endpoints: Path, environ: Mapping[str, str]) -> dict[str, Any]:
    if not endpoints.exists():
        return {}
    raw = yaml.safe_load(endpoints.read_text(encoding="utf-8")) or {}
    section = raw.get("commerce") or {}
    return dict(_expand(section, environ))


def _expand(value: Any, environ: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: environ.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: _expand(v, environ) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, environ) for v in value]
    return value


def _need(spec: Mapping[str, Any], key: str, system: str) -> str:
    value = str(spec.get(key) or "").strip()
    if not value:
        raise CommerceConfigError(f"commerce: {system} needs '{key}' (set its variable in .env)")
    return value


def build_order_system(
    spec: Mapping[str, Any], timeout: float, reference: OrderSystem
) -> OrderSystem:
    kind = str(spec.get("type") or "reference").lower()
    if kind == "reference":
        return reference
    if kind == "shopify":
        from borderless.commerce.shopify import ShopifyOrders

        return ShopifyOrders(
            _need(spec, "shop", kind),
            _need(spec, "access_token", kind),
            api_version=str(spec.get("api_version") or "2024-07"),
            timeout=timeout,
        )
    if kind == "woocommerce":
        from borderless.commerce.woocommerce import WooCommerceOrders

        return WooCommerceOrders(
            _need(spec, "url", kind),
            _need(spec, "consumer_key", kind),
            _need(spec, "consumer_secret", kind),
            timeout=timeout,
        )
    raise CommerceConfigError(f"commerce: unknown order system {kind!r}")


def build_logistics_system(
    spec: Mapping[str, Any], timeout: float, reference: LogisticsSystem
) -> LogisticsSystem:
    kind = str(spec.get("type") or "reference").lower()
    if kind == "reference":
        return reference
    if kind == "aftership":
        from borderless.commerce.aftership import AfterShipTracking

        return AfterShipTracking(_need(spec, "api_key", kind), timeout=timeout)
    if kind in ("17track", "seventeentrack"):
        from borderless.commerce.seventeentrack import SeventeenTrackTracking

        return SeventeenTrackTracking(_need(spec, "api_key", kind), timeout=timeout)
    raise CommerceConfigError(f"commerce: unknown logistics system {kind!r}")
