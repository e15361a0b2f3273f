"""``WooCommerceOrders`` against a local server replaying WooCommerce REST v3 exchanges.

Each file under ``fixtures/woocommerce/`` is one exchange: the request we must send (method,
path, query string) and the answer Woo gives, in its documented shape. The server replays them in
order (the last one repeats) and records what it received.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from borderless.commerce.errors import BackendRejected, BackendUnavailable, OrderNotFound
from borderless.commerce.models import OrderLookup, OrderStatus
from borderless.commerce.protocols import OrderSystem
from borderless.commerce.woocommerce import WooCommerceOrders, canonical_number, order_status

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
KEY = "ck_4f1c2a9b7e3d5a6c8b0e1f2d3c4b5a697e8d9c0b"
SECRET = "cs_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
ANNA = OrderLookup("#1001", email="anna.schmidt@example.de")
MARIA = OrderLookup("1001", email="maria.garcia@example.es")


def exchange(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def with_order(name: str, **changes: Any) -> dict[str, Any]:
    """A single-order exchange with some order fields changed."""
    answer = exchange(name)
    answer["response"]["body"].update(changes)
    return answer


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    at: float


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
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                request.query_string,
                dict(request.headers),
                time.monotonic(),
            )
        )
        recorded = self.script[min(len(self.seen), len(self.script)) - 1]
        await asyncio.sleep(recorded.get("delay", 0))
        answer = recorded["response"]
        if isinstance(answer["body"], str):
            return web.Response(
                text=answer["body"],
                status=answer["status"],
                headers=answer.get("headers") or {},
                content_type="text/html",
            )
        return web.json_response(
            answer["body"], status=answer["status"], headers=answer.get("headers") or {}
        )

    def assert_requests_match_script(self) -> None:
        """Each request received is the one recorded with the exchange that answered it."""
        assert self.seen, "no request reached the server"
        for index, seen in enumerate(self.seen):
            expected = self.script[min(index, len(self.script) - 1)]["request"]
            assert (seen.method, seen.path, seen.query) == (
                expected["method"],
                expected["path"],
                expected["query"],
            )


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
async def shop(server: Replay) -> AsyncIterator[WooCommerceOrders]:
    client = WooCommerceOrders(server.url, KEY, SECRET, backoff=0.05)
    yield client
    await client.close()


def test_implements_the_protocol_without_io_at_construction() -> None:
    client = WooCommerceOrders("https://shop.example/", KEY, SECRET)  # no running loop needed
    assert isinstance(client, OrderSystem)
    assert client.http._session is None
    assert client.http.base_url == "https://shop.example/wp-json/wc/v3"
    already = WooCommerceOrders("https://shop.example/wp-json/wc/v3/", KEY, SECRET)
    assert already.http.base_url == "https://shop.example/wp-json/wc/v3"


@pytest.mark.parametrize(
    ("typed", "number"),
    [("1001", "1001"), ("#1001", "1001"), (" # 1001 ", "1001"), ("WC-1001", "WC-1001")],
)
def test_canonical_numbers(typed: str, number: str) -> None:
    assert canonical_number(typed) == number


@pytest.mark.parametrize("typed", ["#", "1001 anna@example.de", "1001&status=any", "../1001"])
def test_numbers_that_cannot_be_one(typed: str) -> None:
    assert canonical_number(typed) is None


async def test_found_by_email(server: Replay, shop: WooCommerceOrders) -> None:
    server.then(exchange("order_1001.json"))
    order = await shop.find_verified(OrderLookup("#1001", email=" ANNA.Schmidt@Example.de"))

    assert order.number == "1001"
    assert order.email == "Anna.Schmidt@example.de"
    assert order.status is OrderStatus.SHIPPED
    assert order.country == "DE"
    assert (order.currency, order.total) == ("EUR", Decimal("102.30"))
    assert [(i.sku, i.title, i.quantity, i.unit_price) for i in order.items] == [
        ("BL-JKT-M", "Merino Travel Jacket", 1, Decimal("79.9")),
        ("BL-SCK-3", "Wool Socks (3 pairs)", 1, Decimal("11.9")),
    ]
    # date_created is the shop's local time; the _gmt twin is the instant.
    assert order.placed_at == datetime(2024, 9, 2, 8, 14, 51, tzinfo=timezone.utc)
    assert order.shipping_method == "International Express"
    assert order.customer_name == "Anna Schmidt"
    assert [(s.carrier, s.tracking_number, s.tracking_url) for s in order.shipments] == [
        ("ups", "1Z999AA10123456784", None),
        ("China Post", "LX472918365CN", "https://track.example/LX472918365CN"),
    ]

    [request] = server.seen
    server.assert_requests_match_script()
    assert request.path == "/wp-json/wc/v3/orders/1001"
    assert request.headers["Authorization"] == aiohttp.BasicAuth(KEY, SECRET).encode()
    assert request.query_string == ""


async def test_found_by_phone(server: Replay, shop: WooCommerceOrders) -> None:
    server.then(exchange("order_1001.json"))
    order = await shop.find_verified(OrderLookup("1001", phone="0049 (151) 234-56789"))
    assert order.number == "1001"
    assert order.phone == "+49 151 23456789"


async def test_search_when_the_number_is_not_an_id(server: Replay, shop: WooCommerceOrders) -> None:
    """A sequential-number plugin: order "1001" has another id; search finds two orders."""
    server.then(exchange("invalid_id.json"), exchange("orders_search_1001.json"))
    order = await shop.find_verified(MARIA)
    assert order.number == "1001"
    assert order.email == "maria.garcia@example.es"
    assert order.status is OrderStatus.PROCESSING
    assert order.country == "ES"

    server.assert_requests_match_script()
    assert [s.path for s in server.seen] == ["/wp-json/wc/v3/orders/1001", "/wp-json/wc/v3/orders"]
    assert server.seen[1].query == {"search": "1001", "per_page": "10"}
    assert all("@" not in s.query_string and "maria" not in s.query_string for s in server.seen)
    assert all(
        s.headers["Authorization"] == aiohttp.BasicAuth(KEY, SECRET).encode() for s in server.seen
    )


async def test_search_when_the_id_belongs_to_another_number(
    server: Replay, shop: WooCommerceOrders
) -> None:
    server.then(with_order("order_1001.json", number="2031"), exchange("orders_search_1001.json"))
    assert (await shop.find_verified(MARIA)).email == "maria.garcia@example.es"
    assert len(server.seen) == 2


async def test_a_search_hit_with_another_number_proves_nothing(
    server: Replay, shop: WooCommerceOrders
) -> None:
    # Order 977 is in the search result (its phone contains 1001); its owner still cannot see
    # order 1001, and order 977 is not what was asked for.
    server.then(exchange("invalid_id.json"), exchange("orders_search_1001.json"))
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("1001", email="l.berger@example.at"))


async def test_non_numeric_numbers_go_straight_to_search(
    server: Replay, shop: WooCommerceOrders
) -> None:
    found = exchange("orders_search_1001.json")
    found["request"]["query"]["search"] = "wc-1001"
    found["response"]["body"][0]["number"] = "WC-1001"
    server.then(found)
    order = await shop.find_verified(OrderLookup("#wc-1001", email="maria.garcia@example.es"))
    assert order.number == "WC-1001"
    assert len(server.seen) == 1
    server.assert_requests_match_script()
    assert server.seen[0].path == "/wp-json/wc/v3/orders"
    assert server.seen[0].query == {"search": "wc-1001", "per_page": "10"}


async def test_wrong_contact_is_the_same_as_an_unknown_number(
    server: Replay, shop: WooCommerceOrders
) -> None:
    server.then(
        exchange("order_1001.json"),
        exchange("invalid_id.json"),
        exchange("orders_search_empty.json"),
    )
    with pytest.raises(OrderNotFound) as wrong:
        await shop.find_verified(OrderLookup("1001", email="mallory@example.com"))
    with pytest.raises(OrderNotFound) as unknown:
        await shop.find_verified(OrderLookup("1001", email="anna.schmidt@example.de"))
    assert str(wrong.value) == str(unknown.value)
    server.assert_requests_match_script()
    assert len(server.seen) == 3  # a wrong contact on the right order does not search further


@pytest.mark.parametrize("status", ["trash", "checkout-draft"])
async def test_deleted_and_draft_orders_do_not_exist(
    server: Replay, shop: WooCommerceOrders, status: str
) -> None:
    server.then(with_order("order_1001.json", status=status))
    with pytest.raises(OrderNotFound):
        await shop.find_verified(ANNA)


def _tracking() -> list[dict[str, Any]]:
    meta = exchange("order_1001.json")["response"]["body"]["meta_data"]
    return [m for m in meta if m["key"] == "_wc_shipment_tracking_items"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "pending"}, OrderStatus.UNPAID),
        ({"status": "on-hold"}, OrderStatus.UNPAID),
        ({"status": "failed"}, OrderStatus.UNPAID),
        ({"status": "processing"}, OrderStatus.PROCESSING),
        ({"status": "processing", "meta_data": _tracking()}, OrderStatus.SHIPPED),
        ({"status": "completed"}, OrderStatus.SHIPPED),
        ({"status": "cancelled"}, OrderStatus.CANCELLED),
        ({"status": "refunded", "date_completed_gmt": "2024-09-03T10:02:11"}, OrderStatus.RETURNED),
        ({"status": "refunded", "meta_data": _tracking()}, OrderStatus.RETURNED),
        ({"status": "refunded", "date_completed_gmt": None}, OrderStatus.CANCELLED),
        ({"status": "shipped-to-customs"}, OrderStatus.PROCESSING),
        ({"status": "shipped-to-customs", "meta_data": _tracking()}, OrderStatus.SHIPPED),
    ],
)
def test_status_rules(fields: dict[str, Any], expected: OrderStatus) -> None:
    assert order_status(fields) is expected


async def test_custom_statuses_can_be_mapped(server: Replay) -> None:
    server.then(with_order("order_1001.json", status="delivered"))
    client = WooCommerceOrders(
        server.url, KEY, SECRET, extra_statuses={"Delivered": OrderStatus.DELIVERED}
    )
    try:
        assert (await client.find_verified(ANNA)).status is OrderStatus.DELIVERED
    finally:
        await client.close()


async def test_country_falls_back_to_billing(server: Replay, shop: WooCommerceOrders) -> None:
    answer = exchange("order_1001.json")
    answer["response"]["body"]["shipping"]["country"] = ""
    answer["response"]["body"]["billing"]["country"] = "at"
    server.then(answer)
    assert (await shop.find_verified(ANNA)).country == "AT"


async def test_cannot_view_is_a_rejection(server: Replay, shop: WooCommerceOrders) -> None:
    server.then(exchange("cannot_view.json"))
    with pytest.raises(BackendRejected, match="woocommerce_rest_cannot_view") as caught:
        await shop.find_verified(ANNA)
    assert caught.value.status == 401
    assert caught.value.system == "woocommerce"
    assert len(server.seen) == 1


async def test_wrong_base_url_is_a_rejection_not_a_missing_order(
    server: Replay, shop: WooCommerceOrders
) -> None:
    server.then(exchange("no_route.json"))
    with pytest.raises(BackendRejected, match="rest_no_route") as caught:
        await shop.find_verified(ANNA)
    assert caught.value.status == 404


async def test_429_then_success_honours_retry_after(
    server: Replay, shop: WooCommerceOrders
) -> None:
    too_many = {
        "request": exchange("order_1001.json")["request"],
        "response": {"status": 429, "headers": {"Retry-After": "0.3"}, "body": "Too Many Requests"},
    }
    server.then(too_many, exchange("order_1001.json"))
    started = time.monotonic()
    order = await shop.find_verified(ANNA)
    assert order.number == "1001"
    assert len(server.seen) == 2
    server.assert_requests_match_script()
    assert server.seen[1].at - server.seen[0].at >= 0.3
    assert time.monotonic() - started < 2.5


async def test_persistent_5xx_is_unavailable(server: Replay, shop: WooCommerceOrders) -> None:
    server.then(
        {
            "request": exchange("order_1001.json")["request"],
            "response": {"status": 502, "body": "<html><h1>502 Bad Gateway</h1></html>"},
        }
    )
    with pytest.raises(BackendUnavailable) as caught:
        await shop.find_verified(ANNA)
    assert caught.value.status == 502
    assert caught.value.system == "woocommerce"
    assert len(server.seen) == 2


async def test_hanging_server_fails_within_the_timeout(hanging_server: str) -> None:
    client = WooCommerceOrders(hanging_server, KEY, SECRET, timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="within 0.5s"):
            await client.find_verified(ANNA)
    finally:
        elapsed = time.monotonic() - started
        await client.close()
    assert 0.4 < elapsed < 0.9


async def test_both_requests_share_one_budget(server: Replay) -> None:
    slow_miss = {**exchange("invalid_id.json"), "delay": 0.35}
    slow_search = {**exchange("orders_search_1001.json"), "delay": 0.35}
    server.then(slow_miss, slow_search)
    client = WooCommerceOrders(server.url, KEY, SECRET, timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="within 0.5s"):
            await client.find_verified(MARIA)
    finally:
        elapsed = time.monotonic() - started
        await client.close()
    assert len(server.seen) == 2
    assert elapsed < 0.8


async def test_successful_lookups_are_cached(server: Replay, shop: WooCommerceOrders) -> None:
    server.then(exchange("order_1001.json"))
    first = await shop.find_verified(ANNA)
    again = await shop.find_verified(OrderLookup(" 1001 ", email="ANNA.SCHMIDT@example.de"))
    assert again is first
    assert len(server.seen) == 1

    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("1001", email="mallory@example.com"))
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("1001", email="mallory@example.com"))
    assert len(server.seen) == 3  # failures are not cached


@pytest.mark.parametrize("mutate", ["no_total", "bad_price", "not_an_object", "search_not_a_list"])
async def test_malformed_answers_are_unavailable(
    server: Replay, shop: WooCommerceOrders, mutate: str
) -> None:
    answer = copy.deepcopy(exchange("order_1001.json"))
    body = answer["response"]["body"]
    if mutate == "no_total":
        del body["total"]
    elif mutate == "bad_price":
        body["line_items"][0]["price"] = None
    elif mutate == "not_an_object":
        answer["response"]["body"] = "<html>maintenance</html>"
    if mutate == "search_not_a_list":
        search = exchange("orders_search_1001.json")
        search["response"]["body"] = {"orders": search["response"]["body"]}
        server.then(exchange("invalid_id.json"), search)
    else:
        server.then(answer)
    with pytest.raises(BackendUnavailable):
        await shop.find_verified(ANNA)
    assert len(server.seen) == (2 if mutate == "search_not_a_list" else 1)
