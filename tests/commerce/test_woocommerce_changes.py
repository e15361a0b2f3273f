"""``WooCommerceOrders`` changes against the replay server of ``test_woocommerce.py``.

Woo core has refunds but no returns: a return request is a private order note
(``POST /orders/<id>/notes``), the refund status reads those notes and ``GET
/orders/<id>/refunds``; cancel and new address are ``PUT /orders/<id>``. Bodies as documented in
the WooCommerce REST API v3 reference (orders, order notes, order refunds).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from borderless.commerce.errors import ChangeRefused, OrderNotFound
from borderless.commerce.models import OrderLookup, OrderStatus, ReturnLine, ReturnStatus
from borderless.commerce.woocommerce import RETURN_TAG, WooCommerceOrders
from tests.commerce.test_woocommerce import ANNA, KEY, SECRET, Replay, exchange, with_order


class BodyReplay(Replay):
    """The replay server, also keeping each request's JSON body."""

    bodies: list[Any]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.bodies.append(json.loads(raw) if raw else None)
        return await super().handle(request)


@pytest.fixture
async def server() -> AsyncIterator[BodyReplay]:
    replay = BodyReplay()
    replay.bodies = []
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", replay.handle)
    test_server = TestServer(app, host="127.0.0.1")
    await test_server.start_server()
    replay.url = str(test_server.make_url("")).rstrip("/")
    yield replay
    await test_server.close()


@pytest.fixture
async def shop(server: BodyReplay) -> AsyncIterator[WooCommerceOrders]:
    client = WooCommerceOrders(server.url, KEY, SECRET, backoff=0.01, attempts=3)
    yield client
    await client.close()


# Paid, not shipped yet: no tracking recorded (Shipment Tracking keeps it in meta_data).
PROCESSING = with_order("order_1001.json", status="processing", meta_data=[])


async def test_refund_status_reads_notes_and_refunds(server: BodyReplay, shop) -> None:
    server.then(
        exchange("order_1001.json"), exchange("notes_1001.json"), exchange("refunds_1001.json")
    )
    returns = await shop.list_returns(ANNA)
    # The tagged note was settled by the refund after it; the status-change note is ignored.
    (refund,) = returns
    assert refund.status is ReturnStatus.REFUNDED and refund.reference == "WC-1001-R3105"
    assert refund.refund_amount == Decimal("79.90") and refund.currency == "EUR"
    assert refund.refunded_at == datetime(2024, 9, 20, 9, 12, 44, tzinfo=timezone.utc)
    server.assert_requests_match_script()


async def test_an_open_request_without_a_refund_is_requested(server: BodyReplay, shop) -> None:
    server.then(
        exchange("order_1001.json"),
        exchange("notes_1001.json"),
        exchange("refunds_1001_empty.json"),
    )
    (request,) = await shop.list_returns(ANNA)
    assert request.status is ReturnStatus.REQUESTED and request.reference == "WC-1001-2841"


async def test_a_return_request_is_a_private_note_sent_once(server: BodyReplay, shop) -> None:
    server.then(exchange("order_1001.json"), exchange("note_created.json"))
    line = ReturnLine("BL-JKT-M", "Merino Travel Jacket", 1)
    request = await shop.create_return(ANNA, [line], "damaged", "Zip broke")
    assert request.reference == "WC-1001-2850" and request.status is ReturnStatus.REQUESTED
    server.assert_requests_match_script()
    note = server.bodies[1]
    assert note["customer_note"] is False and note["note"].startswith(RETURN_TAG)
    assert "1 x Merino Travel Jacket (BL-JKT-M)" in note["note"] and "Zip broke" in note["note"]


async def test_cancel_puts_the_cancelled_status(server: BodyReplay, shop) -> None:
    server.then(PROCESSING, exchange("order_1001_cancelled_put.json"))
    order = await shop.cancel_order(ANNA)
    assert order.status is OrderStatus.CANCELLED
    assert server.bodies[1] == {"status": "cancelled"}
    server.assert_requests_match_script()


async def test_a_completed_order_is_not_cancelled(server: BodyReplay, shop) -> None:
    server.then(exchange("order_1001.json"))
    with pytest.raises(ChangeRefused) as refused:
        await shop.cancel_order(ANNA)
    assert refused.value.code == "already_fulfilled" and len(server.seen) == 1


async def test_woo_refusing_the_status_is_a_refusal(server: BodyReplay, shop) -> None:
    server.then(PROCESSING, exchange("invalid_status_400.json"))
    with pytest.raises(ChangeRefused):
        await shop.cancel_order(ANNA)
    assert len(server.seen) == 2  # a write is never retried


async def test_new_address_goes_into_address_1_and_a_note(server: BodyReplay, shop) -> None:
    server.then(PROCESSING, exchange("order_1001_shipping_put.json"), exchange("note_created.json"))
    address = "Anna Schmidt, Torstraße 12, 10119 Berlin"
    order = await shop.change_shipping_address(ANNA, address)
    assert order.shipping_address == address
    shipping = server.bodies[1]["shipping"]
    assert shipping["address_1"] == address and shipping["country"] == "DE"
    assert shipping["city"] == "" and shipping["postcode"] == ""
    assert address in server.bodies[2]["note"]


async def test_changes_verify_the_contact_first(server: BodyReplay, shop) -> None:
    server.then(PROCESSING)
    with pytest.raises(OrderNotFound):
        await shop.cancel_order(OrderLookup("1001", email="mallory@example.com"))
    assert len(server.seen) == 1
