"""``ShopifyOrders`` against a local server replaying Admin GraphQL exchanges.

Each file under ``fixtures/shopify/`` is one exchange: the request we must send (method, path,
GraphQL variables) and the answer Shopify gives, in its documented shape. The server replays
them in order (the last one repeats) and records what it received, so every test checks the
request as well as the mapping.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    OrderNotFound,
    RateLimited,
)
from borderless.commerce.models import OrderLookup, OrderStatus
from borderless.commerce.protocols import OrderSystem
from borderless.commerce.shopify import ShopifyOrders, order_status

FIXTURES = Path(__file__).parent / "fixtures" / "shopify"
TOKEN = "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"
ANNA = OrderLookup("#1001", email="anna.schmidt@example.de")


def exchange(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Replay:
    """Answers the n-th request with the n-th exchange (the last one repeats)."""

    url: str = ""
    script: list[dict[str, Any]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def then(self, *exchanges: dict[str, Any]) -> Replay:
        self.script.extend(exchanges)
        return self

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.seen.append(
            Seen(request.method, request.path, dict(request.headers), raw, time.monotonic())
        )
        answer = self.script[min(len(self.seen), len(self.script)) - 1]["response"]
        return web.json_response(
            answer["body"], status=answer["status"], headers=answer.get("headers") or {}
        )

    def assert_requests_match_script(self) -> None:
        """Each request received is the one recorded with the exchange that answered it."""
        assert self.seen, "no request reached the server"
        for index, seen in enumerate(self.seen):
            expected = self.script[min(index, len(self.script) - 1)]["request"]
            assert seen.method == expected["method"]
            assert seen.path == expected["path"]
            assert seen.json["variables"] == expected["json"]["variables"]


@pytest.fixture
async def server() -> AsyncIterator[Replay]:
    replay = Replay()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", replay.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    replay.url = str(test_server.make_url("")).rstrip("/")
    yield replay
    await test_server.close()


@pytest.fixture
async def shop(server: Replay) -> AsyncIterator[ShopifyOrders]:
    client = ShopifyOrders(server.url, TOKEN, backoff=0.05)
    yield client
    await client.close()


def test_implements_the_protocol_without_io_at_construction() -> None:
    client = ShopifyOrders("my-shop", TOKEN)  # no running loop needed
    assert isinstance(client, OrderSystem)
    assert client.http._session is None


@pytest.mark.parametrize(
    "domain",
    [
        "my-shop",
        "My-Shop.myshopify.com",
        "my-shop.myshopify.com/",
        "https://my-shop.myshopify.com/",
    ],
)
def test_shop_domain_forms(domain: str) -> None:
    client = ShopifyOrders(domain, TOKEN, api_version="2024-10")
    assert client.http.base_url.lower() == "https://my-shop.myshopify.com/admin/api/2024-10"


@pytest.mark.parametrize(
    ("domain", "version"), [("evil.example/x?", "2024-07"), ("my-shop", "latest")]
)
def test_bad_configuration_fails_at_construction(domain: str, version: str) -> None:
    with pytest.raises(ValueError):
        ShopifyOrders(domain, TOKEN, api_version=version)


@pytest.mark.parametrize(
    ("prefix", "typed", "name"),
    [
        ("#", "1001", "#1001"),
        ("#", "#1001", "#1001"),
        ("#", " # 1001 ", "#1001"),
        ("#EU", "EU1001", "#EU1001"),
        ("#EU", "#eu1001", "#EU1001"),
        ("#EU", "1001", "#EU1001"),
        ("", "#1001", "1001"),
        ("#", "1001 OR email:*", None),
        ("#", "#", None),
        ("#", "name:#1001", None),
    ],
)
def test_order_names(prefix: str, typed: str, name: str | None) -> None:
    assert ShopifyOrders("my-shop", TOKEN, name_prefix=prefix).order_name(typed) == name


async def test_found_by_email_with_two_parcels(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_in_transit.json"))
    order = await shop.find_verified(OrderLookup("#1001", email=" ANNA.schmidt@example.de "))

    assert order.number == "#1001"
    assert order.email == "Anna.Schmidt@example.de"
    # One parcel delivered, the other still travelling: the order is as far as the slower one.
    assert order.status is OrderStatus.IN_TRANSIT
    assert order.country == "DE"
    # The customer paid in euros (presentment currency), not in the shop's dollars.
    assert (order.currency, order.total) == ("EUR", Decimal("102.30"))
    assert [(i.sku, i.quantity, i.unit_price) for i in order.items] == [
        ("BL-JKT-M", 1, Decimal("79.90")),
        ("BL-SCK-3", 1, Decimal("11.90")),
    ]
    assert order.placed_at == datetime(2024, 9, 2, 8, 14, 51, tzinfo=timezone.utc)
    assert order.shipping_method == "International Express"
    assert [(s.carrier, s.tracking_number, s.tracking_url) for s in order.shipments] == [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("China Post", "LX472918365CN", None),
    ]
    assert order.delivered_at is None
    assert order.estimated_delivery == date(2024, 9, 14)  # the undelivered parcel's estimate

    [request] = server.seen
    server.assert_requests_match_script()
    assert request.path == "/admin/api/2024-07/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    assert request.headers["Content-Type"].startswith("application/json")
    body = request.json
    assert body["variables"] == {"query": "name:#1001"}
    assert "orders(first: 5, query: $query)" in body["query"]
    assert b"anna" not in request.raw.lower(), "the contact is checked here, never sent"


async def test_found_by_phone_on_the_shipping_address(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_in_transit.json"))
    order = await shop.find_verified(OrderLookup("1001", phone="0049 151 2345 6789"))
    assert order.number == "#1001"
    assert order.phone == "+49 151 23456789"
    assert server.seen[0].json["variables"] == {"query": "name:#1001"}


async def test_wrong_contact_is_the_same_as_an_unknown_number(
    server: Replay, shop: ShopifyOrders
) -> None:
    server.then(
        exchange("order_in_transit.json"),
        exchange("order_in_transit.json"),
        exchange("orders_empty.json"),
    )
    with pytest.raises(OrderNotFound) as wrong_email:
        await shop.find_verified(OrderLookup("#1001", email="mallory@example.com"))
    with pytest.raises(OrderNotFound) as wrong_phone:
        await shop.find_verified(OrderLookup("#1001", phone="+49 151 0000000"))
    with pytest.raises(OrderNotFound) as unknown:
        await shop.find_verified(ANNA)
    assert str(wrong_email.value) == str(wrong_phone.value) == str(unknown.value)
    server.assert_requests_match_script()


async def test_only_the_exact_name_counts(server: Replay, shop: ShopifyOrders) -> None:
    near_miss = exchange("order_in_transit.json")
    near_miss["response"]["body"]["data"]["orders"]["nodes"][0]["name"] = "#10010"
    server.then(near_miss)
    with pytest.raises(OrderNotFound):
        await shop.find_verified(ANNA)


async def test_a_number_that_is_not_one_never_reaches_shopify(
    server: Replay, shop: ShopifyOrders
) -> None:
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("1001 OR name:*", email="anna.schmidt@example.de"))
    assert server.seen == []


async def test_cancelled_order(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_cancelled.json"))
    order = await shop.find_verified(OrderLookup("1002", phone="+1 (512) 555-0142"))
    server.assert_requests_match_script()
    assert order.status is OrderStatus.CANCELLED
    assert order.shipments == ()
    assert order.phone == "+15125550142"
    assert (order.currency, order.total) == ("USD", Decimal("45.00"))


async def test_unpaid_order(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_unpaid.json"))
    order = await shop.find_verified(OrderLookup("#1003", email="yuki.tanaka@example.jp"))
    server.assert_requests_match_script()
    assert order.status is OrderStatus.UNPAID
    assert (order.currency, order.total) == ("JPY", Decimal("8800"))
    assert order.country == "JP"
    assert order.estimated_delivery is None


def _parcel(display: str | None, status: str = "SUCCESS", **extra: Any) -> dict[str, Any]:
    return {"status": status, "displayStatus": display, "trackingInfo": [], **extra}


@pytest.mark.parametrize(
    ("financial", "fulfillment", "parcels", "cancelled", "expected"),
    [
        ("REFUNDED", "UNFULFILLED", [], True, OrderStatus.CANCELLED),
        ("PAID", "FULFILLED", [_parcel("IN_TRANSIT")], True, OrderStatus.CANCELLED),
        ("REFUNDED", "UNFULFILLED", [], False, OrderStatus.CANCELLED),
        ("REFUNDED", "FULFILLED", [_parcel("DELIVERED")], False, OrderStatus.RETURNED),
        ("PAID", "RESTOCKED", [_parcel("DELIVERED")], False, OrderStatus.RETURNED),
        ("PENDING", "UNFULFILLED", [], False, OrderStatus.UNPAID),
        ("EXPIRED", "UNFULFILLED", [], False, OrderStatus.UNPAID),
        ("VOIDED", "UNFULFILLED", [], False, OrderStatus.UNPAID),
        ("AUTHORIZED", "UNFULFILLED", [], False, OrderStatus.PROCESSING),
        ("PAID", "UNFULFILLED", [], False, OrderStatus.PROCESSING),
        ("PAID", "IN_PROGRESS", [], False, OrderStatus.PROCESSING),
        ("PAID", "ON_HOLD", [], False, OrderStatus.PROCESSING),
        ("PARTIALLY_REFUNDED", "FULFILLED", [_parcel("IN_TRANSIT")], False, OrderStatus.IN_TRANSIT),
        # Cash on delivery: unpaid until delivered, but the parcel is what the customer asks about.
        ("PENDING", "FULFILLED", [_parcel("IN_TRANSIT")], False, OrderStatus.IN_TRANSIT),
        ("PAID", "FULFILLED", [_parcel("OUT_FOR_DELIVERY")], False, OrderStatus.OUT_FOR_DELIVERY),
        ("PAID", "FULFILLED", [_parcel("DELIVERED")], False, OrderStatus.DELIVERED),
        ("PAID", "FULFILLED", [_parcel("PICKED_UP")], False, OrderStatus.DELIVERED),
        ("PAID", "FULFILLED", [_parcel("ATTEMPTED_DELIVERY")], False, OrderStatus.EXCEPTION),
        ("PAID", "FULFILLED", [_parcel("FAILURE")], False, OrderStatus.EXCEPTION),
        ("PAID", "FULFILLED", [_parcel("LABEL_PRINTED")], False, OrderStatus.SHIPPED),
        ("PAID", "FULFILLED", [_parcel("CONFIRMED")], False, OrderStatus.SHIPPED),
        ("PAID", "FULFILLED", [_parcel(None)], False, OrderStatus.SHIPPED),
        ("PAID", "FULFILLED", [], False, OrderStatus.SHIPPED),
        (
            "PAID",
            "FULFILLED",
            [_parcel(None, deliveredAt="2024-09-09T13:40:00Z"), _parcel("DELIVERED")],
            False,
            OrderStatus.DELIVERED,
        ),
        (
            "PAID",
            "FULFILLED",
            [_parcel("DELIVERED"), _parcel("FAILURE")],
            False,
            OrderStatus.EXCEPTION,
        ),
        (
            "PAID",
            "FULFILLED",
            [_parcel("LABEL_PRINTED"), _parcel("DELIVERED")],
            False,
            OrderStatus.SHIPPED,
        ),
        ("PAID", "PARTIALLY_FULFILLED", [_parcel("DELIVERED")], False, OrderStatus.SHIPPED),
        ("PAID", "PARTIALLY_FULFILLED", [_parcel("IN_TRANSIT")], False, OrderStatus.IN_TRANSIT),
        (
            "PAID",
            "FULFILLED",
            [_parcel("CANCELED", status="CANCELLED"), _parcel("IN_TRANSIT")],
            False,
            OrderStatus.IN_TRANSIT,
        ),
        ("PAID", "UNFULFILLED", [_parcel("LABEL_VOIDED")], False, OrderStatus.PROCESSING),
    ],
)
def test_status_rules(
    financial: str,
    fulfillment: str,
    parcels: list[dict[str, Any]],
    cancelled: bool,
    expected: OrderStatus,
) -> None:
    node = {
        "cancelledAt": "2024-09-05T07:45:02Z" if cancelled else None,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment,
        "fulfillments": parcels,
    }
    assert order_status(node) is expected


async def test_delivered_order_has_the_last_delivery_time(
    server: Replay, shop: ShopifyOrders
) -> None:
    delivered = exchange("order_in_transit.json")
    node = delivered["response"]["body"]["data"]["orders"]["nodes"][0]
    node["fulfillments"][1].update(displayStatus="DELIVERED", deliveredAt="2024-09-12T09:00:00Z")
    server.then(delivered)
    order = await shop.find_verified(ANNA)
    assert order.status is OrderStatus.DELIVERED
    assert order.delivered_at == datetime(2024, 9, 12, 9, 0, tzinfo=timezone.utc)
    assert order.estimated_delivery is None


async def test_throttled_query_is_rate_limited_at_once(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("throttled.json"))
    with pytest.raises(RateLimited, match="THROTTLED|Throttled") as caught:
        await shop.find_verified(ANNA)
    assert caught.value.system == "shopify"
    assert len(server.seen) == 1  # refilling the bucket takes longer than the customer waits


async def test_access_denied_is_a_rejection(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("access_denied.json"))
    with pytest.raises(BackendRejected, match="read_orders"):
        await shop.find_verified(ANNA)


async def test_bad_token_is_a_rejection(server: Replay) -> None:
    server.then(exchange("unauthorized.json"))
    client = ShopifyOrders(server.url, "shpat_revoked")
    try:
        with pytest.raises(BackendRejected, match="Invalid API key") as caught:
            await client.find_verified(ANNA)
    finally:
        await client.close()
    assert caught.value.status == 401
    assert caught.value.system == "shopify"
    assert server.seen[0].headers["X-Shopify-Access-Token"] == "shpat_revoked"
    assert len(server.seen) == 1


async def test_429_then_success_honours_retry_after(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("rate_limited.json"), exchange("order_in_transit.json"))
    started = time.monotonic()
    order = await shop.find_verified(ANNA)
    elapsed = time.monotonic() - started
    assert order.number == "#1001"
    assert len(server.seen) == 2
    server.assert_requests_match_script()
    assert server.seen[1].at - server.seen[0].at >= 0.3  # Retry-After: 0.3, not the 0.05 backoff
    assert elapsed < 2.5


async def test_persistent_5xx_is_unavailable(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("internal_error.json"))
    with pytest.raises(BackendUnavailable) as caught:
        await shop.find_verified(ANNA)
    assert caught.value.status == 503
    assert caught.value.system == "shopify"
    assert len(server.seen) == 2  # one retry, then give up


async def test_hanging_server_fails_within_the_timeout(hanging_server: str) -> None:
    client = ShopifyOrders(hanging_server, TOKEN, timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="within 0.5s"):
            await client.find_verified(ANNA)
    finally:
        elapsed = time.monotonic() - started
        await client.close()
    assert 0.4 < elapsed < 0.9


async def test_successful_lookups_are_cached(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_in_transit.json"))
    first = await shop.find_verified(ANNA)
    again = await shop.find_verified(OrderLookup(" 1001", email="ANNA.Schmidt@example.de "))
    assert again is first
    assert len(server.seen) == 1

    # A different contact is a different question: asked again, and checked again.
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("#1001", email="mallory@example.com"))
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("#1001", email="mallory@example.com"))
    assert len(server.seen) == 3  # failures are not cached


async def test_cache_entries_expire(server: Replay) -> None:
    server.then(exchange("order_in_transit.json"))
    client = ShopifyOrders(server.url, TOKEN, cache_ttl=0.05)
    try:
        await client.find_verified(ANNA)
        await asyncio.sleep(0.06)
        await client.find_verified(ANNA)
    finally:
        await client.close()
    assert len(server.seen) == 2


@pytest.mark.parametrize("mutate", ["no_orders", "no_total", "bad_amount", "not_an_object"])
async def test_malformed_answers_are_unavailable(
    server: Replay, shop: ShopifyOrders, mutate: str
) -> None:
    answer = copy.deepcopy(exchange("order_in_transit.json"))
    body = answer["response"]["body"]
    node = body["data"]["orders"]["nodes"][0]
    if mutate == "no_orders":
        body["data"]["orders"] = None
    elif mutate == "no_total":
        del node["totalPriceSet"]
    elif mutate == "bad_amount":
        node["totalPriceSet"]["presentmentMoney"]["amount"] = "NaN"
    else:
        answer["response"]["body"] = ["not", "an", "object"]
    server.then(answer)
    with pytest.raises(BackendUnavailable, match="Shopify"):
        await shop.find_verified(ANNA)
