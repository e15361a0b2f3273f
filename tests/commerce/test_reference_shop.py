"""``ReferenceShop`` against the real shop service, and against misbehaving local servers."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    OrderNotFound,
    RateLimited,
    TrackingNotFound,
)
from borderless.commerce.models import OrderLookup, OrderStatus, TrackingStatus
from borderless.commerce.protocols import LogisticsSystem, OrderSystem
from borderless.commerce.reference import ReferenceShop

ANNA = OrderLookup("BL-10001", email="anna.schmidt@example.de")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Service(Protocol):
    base_url: str
    api_token: str


@pytest.fixture
async def shop(shop_service: Service) -> AsyncIterator[ReferenceShop]:
    client = ReferenceShop(shop_service.base_url, shop_service.api_token)
    yield client
    await client.close()


@pytest.fixture
async def stub() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Starts a local aiohttp server answering every request with ``handler``; yields its URL."""
    servers: list[TestServer] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


def test_implements_both_protocols_without_io_at_construction() -> None:
    client = ReferenceShop("http://127.0.0.1:9", "token")  # no running loop needed
    assert isinstance(client, OrderSystem)
    assert isinstance(client, LogisticsSystem)
    assert client.http._session is None


async def test_find_verified(shop: ReferenceShop) -> None:
    order = await shop.find_verified(ANNA)
    assert order.number == "BL-10001"
    assert order.status is OrderStatus.IN_TRANSIT
    assert order.total == Decimal("102.30")
    assert order.currency == "EUR"
    assert isinstance(order.placed_at, datetime)
    assert order.placed_at.tzinfo is not None
    assert order.items[0].unit_price == Decimal("79.90")
    assert order.shipments[0].carrier == "DHL"


async def test_find_verified_by_phone_and_loose_number(shop: ReferenceShop) -> None:
    order = await shop.find_verified(OrderLookup("bl 10002", phone="+1 512-555-0142"))
    assert order.email == "john.miller@example.com"


async def test_wrong_contact_and_unknown_number_are_both_not_found(shop: ReferenceShop) -> None:
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("BL-10001", email="mallory@example.com"))
    with pytest.raises(OrderNotFound):
        await shop.find_verified(OrderLookup("BL-99999", email="anna.schmidt@example.de"))


async def test_track(shop: ReferenceShop) -> None:
    tracking = await shop.track("China Post", "LX472918365CN")
    assert tracking.status is TrackingStatus.IN_TRANSIT
    assert tracking.latest is not None
    assert tracking.latest.location == "ISC CHICAGO IL (USPS)"
    assert tracking.estimated_delivery is not None
    times = [c.time for c in tracking.checkpoints]
    assert times == sorted(times)


async def test_track_unknown(shop: ReferenceShop) -> None:
    with pytest.raises(TrackingNotFound):
        await shop.track("DHL", "0000000000")
    with pytest.raises(TrackingNotFound):
        await shop.track("DHL", "  ")


async def test_order_and_its_parcels_together(shop: ReferenceShop) -> None:
    order = await shop.find_verified(OrderLookup("BL-10014", email="emily.johnson@example.com"))
    trackings = [await shop.track(s.carrier, s.tracking_number) for s in order.shipments]
    assert [t.status for t in trackings] == [TrackingStatus.DELIVERED, TrackingStatus.IN_TRANSIT]


async def test_bad_token_is_rejected(shop_service: Service) -> None:
    client = ReferenceShop(shop_service.base_url, "not-the-token")
    try:
        with pytest.raises(BackendRejected) as caught:
            await client.find_verified(ANNA)
        assert caught.value.status == 401
        assert caught.value.system == "reference"
    finally:
        await client.close()


async def test_closed_port_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ReferenceShop(f"http://127.0.0.1:{port}", "token", timeout=2.0)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable) as caught:
            await client.find_verified(ANNA)
    finally:
        await client.close()
    assert caught.value.system == "reference"
    assert time.monotonic() - started < 2.0


async def test_hanging_server_fails_within_the_timeout() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # keep it open, never answer

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = ReferenceShop(f"http://127.0.0.1:{port}", "token", timeout=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="within 0.5s"):
            await client.track("DHL", "4817203956")
    finally:
        elapsed = time.monotonic() - started
        await client.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
    assert 0.4 < elapsed < 0.9
    assert connections, "the client did connect"


async def test_one_retry_after_a_5xx(stub: Callable[[Handler], Awaitable[str]]) -> None:
    calls: list[str] = []

    async def flaky(request: web.Request) -> web.Response:
        calls.append(request.path)
        if len(calls) == 1:
            return web.json_response({"error": "internal_error"}, status=503)
        return web.json_response({"tracking": _tracking_body()})

    client = ReferenceShop(await stub(flaky), "token", backoff=0.05)
    try:
        tracking = await client.track("China Post", "LX 472918365CN")
    finally:
        await client.close()
    assert tracking.tracking_number == "LX472918365CN"
    assert calls == ["/api/tracking/China Post/LX 472918365CN"] * 2


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, BackendUnavailable), (502, BackendUnavailable), (429, RateLimited)],
)
async def test_persistent_failures(
    stub: Callable[[Handler], Awaitable[str]], status: int, error: type[Exception]
) -> None:
    calls = 0

    async def failing(request: web.Request) -> web.Response:
        nonlocal calls
        calls += 1
        return web.json_response({"error": "nope"}, status=status, headers={"Retry-After": "0"})

    client = ReferenceShop(await stub(failing), "token", backoff=0.05)
    try:
        with pytest.raises(error) as caught:
            await client.find_verified(ANNA)
    finally:
        await client.close()
    assert calls == 2
    assert getattr(caught.value, "status", None) == status


async def test_retry_never_outlives_the_budget(stub: Callable[[Handler], Awaitable[str]]) -> None:
    async def slow_failure(request: web.Request) -> web.Response:
        await asyncio.sleep(0.3)
        return web.json_response({"error": "busy"}, status=503)

    client = ReferenceShop(await stub(slow_failure), "token", timeout=0.5, backoff=0.3)
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable):
            await client.find_verified(ANNA)
    finally:
        await client.close()
    assert time.monotonic() - started < 0.8


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"error": "invalid_request", "detail": "number is required"}),
        (403, {"error": "forbidden"}),
        (404, {"error": "not_found"}),  # a wrong base URL, not a missing order
        (404, "<html>Not Found</html>"),
        (418, None),
    ],
)
async def test_other_client_errors_are_rejections(
    stub: Callable[[Handler], Awaitable[str]], status: int, body: Any
) -> None:
    async def refuse(request: web.Request) -> web.Response:
        if isinstance(body, str):
            return web.Response(text=body, status=status, content_type="text/html")
        return web.json_response(body, status=status)

    client = ReferenceShop(await stub(refuse), "token")
    try:
        with pytest.raises(BackendRejected) as caught:
            await client.find_verified(ANNA)
    finally:
        await client.close()
    assert caught.value.status == status


@pytest.mark.parametrize(
    "body", [{"order": {"number": "BL-10001"}}, {"order": None}, ["not", "an", "object"], "text"]
)
async def test_malformed_answers_are_unavailable(
    stub: Callable[[Handler], Awaitable[str]], body: Any
) -> None:
    async def garbled(request: web.Request) -> web.Response:
        if body == "text":
            return web.Response(text="OK")
        return web.json_response(body)

    client = ReferenceShop(await stub(garbled), "token")
    try:
        with pytest.raises(BackendUnavailable):
            await client.find_verified(ANNA)
    finally:
        await client.close()


async def test_sends_the_token_and_only_given_contacts(
    stub: Callable[[Handler], Awaitable[str]],
) -> None:
    seen: dict[str, Any] = {}

    async def record(request: web.Request) -> web.Response:
        seen["authorization"] = request.headers.get("Authorization")
        seen["body"] = await request.json()
        return web.json_response({"error": "order_not_found"}, status=404)

    client = ReferenceShop(await stub(record) + "/", "s3cret")
    try:
        with pytest.raises(OrderNotFound):
            await client.find_verified(OrderLookup("BL-10001", phone="+4915112345678"))
    finally:
        await client.close()
    assert seen == {
        "authorization": "Bearer s3cret",
        "body": {"number": "BL-10001", "phone": "+4915112345678"},
    }


async def test_an_injected_session_is_used_and_left_open(shop_service: Service) -> None:
    async with aiohttp.ClientSession() as session:
        client = ReferenceShop(shop_service.base_url, shop_service.api_token, session=session)
        assert (await client.find_verified(ANNA)).number == "BL-10001"
        await client.close()
        assert not session.closed


def _tracking_body() -> dict[str, Any]:
    return {
        "carrier": "China Post",
        "tracking_number": "LX472918365CN",
        "status": "in_transit",
        "checkpoints": [
            {
                "time": "2025-03-01T08:40:00Z",
                "status": "in_transit",
                "location": "Shenzhen, China",
                "message": "Posting/Collection",
            }
        ],
        "estimated_delivery": "2025-03-20",
        "tracking_url": None,
    }
