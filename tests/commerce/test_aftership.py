"""``AfterShipTracking`` against a local server replaying AfterShip's documented bodies.

The bodies live in ``fixtures/aftership`` (see its README for where each shape comes from);
every test checks what the adapter sent as well as what it made of the answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from borderless.commerce.aftership import AfterShipTracking
from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    RateLimited,
    TrackingNotFound,
)
from borderless.commerce.models import TrackingStatus
from borderless.commerce.protocols import LogisticsSystem

FIXTURES = Path(__file__).parent / "fixtures" / "aftership"
KEY = "asat_0123456789abcdef"
TRACKINGS = "/tracking/2024-07/trackings"


def body(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Reply:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: dict[str, str]
    api_key: str | None
    content_type: str
    json: Any


class AfterShipStub:
    """Stands in for api.aftership.com: answers with queued replies in order, records requests."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.url = ""

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json() if request.can_read_body else None
        self.seen.append(
            Seen(
                request.method,
                request.path,
                dict(request.query),
                request.headers.get("as-api-key"),
                request.content_type,
                payload,
            )
        )
        if not self.replies:
            return web.json_response({"unexpected": "request"}, status=418)
        reply = self.replies.pop(0)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)


@pytest.fixture
async def stub() -> AsyncIterator[AfterShipStub]:
    fake = AfterShipStub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")  # a free port
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def aftership(stub: AfterShipStub) -> AsyncIterator[AfterShipTracking]:
    client = AfterShipTracking(KEY, base_url=stub.url, backoff=0.05)
    yield client
    await client.close()


def lookup(number: str) -> Seen:
    return Seen(
        "GET", TRACKINGS, {"tracking_numbers": number}, KEY, "application/octet-stream", None
    )


def test_implements_the_protocol_without_io_at_construction() -> None:
    client = AfterShipTracking(KEY)  # no running loop needed
    assert isinstance(client, LogisticsSystem)
    assert client.http._session is None
    assert client.http.base_url == "https://api.aftership.com/tracking/2024-07"


async def test_in_transit_with_a_customs_checkpoint(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply(body("trackings_in_transit.json")))
    tracking = await aftership.track("China Post", "LX472918365CN")

    assert stub.seen == [lookup("LX472918365CN")]
    assert tracking.carrier == "China Post"
    assert tracking.tracking_number == "LX472918365CN"
    assert tracking.status is TrackingStatus.CUSTOMS  # InTransit_006, not plain "in transit"
    assert [c.status for c in tracking.checkpoints] == [
        TrackingStatus.INFO_RECEIVED,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.IN_TRANSIT,
        TrackingStatus.CUSTOMS,
    ]
    first, second, *_, latest = tracking.checkpoints
    assert first.time == datetime(2025, 3, 1, 1, 12, tzinfo=timezone.utc)
    assert first.location == "Shenzhen, China"  # city and country_region_name
    assert second.location == "Shenzhen, Guangdong, China"  # the carrier's own location
    assert latest.message == "Handed over to customs"
    assert latest.location == "Frankfurt, Germany"
    assert tracking.estimated_delivery == date(2025, 3, 12)  # the end of the 10-12 range
    assert tracking.tracking_url == "https://www.ems.com.cn/qps/yjcx?mailNum=LX472918365CN"


async def test_checkpoints_come_oldest_first_whatever_order_they_arrive_in(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    shuffled = body("trackings_in_transit.json")
    checkpoints = shuffled["data"]["trackings"][0]["checkpoints"]
    checkpoints[:] = checkpoints[2:] + checkpoints[:2][::-1]
    stub.queue(Reply(shuffled))
    tracking = await aftership.track("China Post", "LX472918365CN")
    times = [c.time for c in tracking.checkpoints]
    assert times == sorted(times)
    assert tracking.checkpoints[0].message == "Electronic information submitted by shipper"
    assert tracking.latest is not None
    assert tracking.latest.status is TrackingStatus.CUSTOMS


async def test_delivered(stub: AfterShipStub, aftership: AfterShipTracking) -> None:
    stub.queue(Reply(body("trackings_delivered.json")))
    tracking = await aftership.track("UPS", "1Z999AA10123456784")
    assert tracking.status is TrackingStatus.DELIVERED
    assert tracking.latest is not None
    assert tracking.latest.status is TrackingStatus.DELIVERED
    assert tracking.latest.time == datetime(2025, 3, 4, 20, 2, tzinfo=timezone.utc)
    assert tracking.latest.location == "Austin, TX, United States"
    assert tracking.checkpoints[-2].status is TrackingStatus.OUT_FOR_DELIVERY
    assert tracking.estimated_delivery is None  # delivered: nothing left to estimate


async def test_exception(stub: AfterShipStub, aftership: AfterShipTracking) -> None:
    stub.queue(Reply(body("trackings_exception.json")))
    tracking = await aftership.track("USPS", "9400111899223197428490")
    assert tracking.status is TrackingStatus.EXCEPTION
    first, latest = tracking.checkpoints
    assert first.location == "ISC CHICAGO IL (USPS)"
    assert latest.message == "Addressee Unknown"
    assert latest.time == datetime(2025, 2, 24, 9, 41, tzinfo=timezone.utc)  # no offset: UTC
    assert tracking.estimated_delivery is None


async def test_spaces_go_to_aftership_compacted_and_back_as_the_shop_wrote_them(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply(body("trackings_in_transit.json")))
    tracking = await aftership.track("china post", "LX 472 918 365 CN")
    assert stub.seen == [lookup("LX472918365CN")]
    assert tracking.tracking_number == "LX 472 918 365 CN"  # replies match shipments by it
    assert tracking.carrier == "china post"


async def test_an_unknown_number_is_created_and_reported_as_no_tracking_yet(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(
        Reply(body("trackings_empty.json")),
        Reply(body("create_tracking_created.json"), status=201),
    )
    with pytest.raises(TrackingNotFound):
        await aftership.track("4PX", "4PX3000123456789CN")
    assert stub.seen == [
        lookup("4PX3000123456789CN"),
        Seen(
            "POST",
            TRACKINGS,
            {},
            KEY,
            "application/json",
            {"tracking_number": "4PX3000123456789CN", "slug": "4px"},
        ),
    ]


@pytest.mark.parametrize(
    ("carrier", "slug"),
    [
        ("DHL", "dhl"),
        ("UPS", "ups"),
        ("USPS", "usps"),
        ("FedEx", "fedex"),
        ("China Post", "china-post"),
        ("YunExpress", "yunexpress"),
        ("4PX", "4px"),
        ("Cainiao", "cainiao"),
        ("Speedy Parcels Ltd", None),  # unknown to us: AfterShip detects the courier
    ],
)
async def test_carriers_are_created_with_their_slug(
    stub: AfterShipStub, aftership: AfterShipTracking, carrier: str, slug: str | None
) -> None:
    stub.queue(
        Reply(body("trackings_empty.json")),
        Reply(body("create_tracking_created.json"), status=201),
    )
    with pytest.raises(TrackingNotFound):
        await aftership.track(carrier, "4PX3000123456789CN")
    expected = {"tracking_number": "4PX3000123456789CN"} | ({"slug": slug} if slug else {})
    assert stub.seen[-1].json == expected


async def test_a_pending_tracking_is_no_tracking_yet_and_not_created_again(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply(body("trackings_pending.json")))
    with pytest.raises(TrackingNotFound):
        await aftership.track("YunExpress", "YT2506012345678901")
    assert stub.seen == [lookup("YT2506012345678901")]


async def test_a_tracking_created_meanwhile_is_no_tracking_yet(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(
        Reply(body("trackings_empty.json")),
        Reply(body("create_tracking_already_exists.json"), status=400),
    )
    with pytest.raises(TrackingNotFound):
        await aftership.track("4PX", "4PX3000123456789CN")
    assert [s.method for s in stub.seen] == ["GET", "POST"]


async def test_several_trackings_for_one_number_prefer_our_carrier(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    listing = body("trackings_in_transit.json")
    ours = listing["data"]["trackings"][0]
    other = {**body("trackings_delivered.json")["data"]["trackings"][0]}
    other.update(tracking_number=ours["tracking_number"], slug="dhl")
    listing["data"]["trackings"] = [other, ours]
    stub.queue(Reply(listing))
    tracking = await aftership.track("China Post", "LX472918365CN")
    assert tracking.status is TrackingStatus.CUSTOMS


async def test_429_is_retried_after_retry_after(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    limits = {
        "retry-after": "1",
        "ratelimit-limit": "10",
        "ratelimit-remaining": "0",
        "ratelimit-reset": "1741252801",
    }
    stub.queue(
        Reply(body("error_429.json"), status=429, headers=limits),
        Reply(body("trackings_in_transit.json")),
    )
    started = time.monotonic()
    tracking = await aftership.track("China Post", "LX472918365CN")
    assert time.monotonic() - started >= 0.95  # waited as told, not the 50 ms backoff
    assert tracking.status is TrackingStatus.CUSTOMS
    assert stub.seen == [lookup("LX472918365CN")] * 2


async def test_persistent_429_is_rate_limited(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(*[Reply(body("error_429.json"), status=429, headers={"retry-after": "0"})] * 3)
    with pytest.raises(RateLimited) as caught:
        await aftership.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("aftership", 429)
    assert len(stub.seen) == 2


async def test_persistent_5xx_is_unavailable(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(*[Reply(body("error_500.json"), status=500)] * 3)
    with pytest.raises(BackendUnavailable) as caught:
        await aftership.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("aftership", 500)
    assert len(stub.seen) == 2


async def test_a_bad_key_is_rejected(stub: AfterShipStub, aftership: AfterShipTracking) -> None:
    stub.queue(Reply(body("error_401.json"), status=401))
    with pytest.raises(BackendRejected) as caught:
        await aftership.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("aftership", 401)


async def test_a_404_without_aftership_meta_is_a_misconfiguration_not_a_missing_parcel(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply({"message": "no route"}, status=404))
    with pytest.raises(BackendRejected):
        await aftership.track("DHL", "1234567890")


@pytest.mark.parametrize(
    "answer",
    [
        {"meta": {"code": 200}, "data": {"trackings": "none"}},
        {"meta": {"code": 200}},
        ["not", "an", "object"],
        {
            "meta": {"code": 200},
            "data": {"trackings": [{"tracking_number": "1234567890", "checkpoints": 7}]},
        },
        {
            "meta": {"code": 200},
            "data": {"trackings": [{"tracking_number": "1234567890", "checkpoints": {}}]},
        },
    ],
)
async def test_malformed_answers_are_unavailable(
    stub: AfterShipStub, aftership: AfterShipTracking, answer: Any
) -> None:
    stub.queue(Reply(answer))
    with pytest.raises(BackendUnavailable):
        await aftership.track("DHL", "1234567890")


async def test_a_blank_number_is_not_looked_up(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    with pytest.raises(TrackingNotFound):
        await aftership.track("DHL", "  ")
    assert stub.seen == []


async def test_answers_are_cached_per_number(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply(body("trackings_in_transit.json")), Reply(body("trackings_delivered.json")))
    first = await aftership.track("China Post", "LX472918365CN")
    again = await aftership.track("China Post", "LX 472918365CN")
    assert len(stub.seen) == 1
    assert again.checkpoints == first.checkpoints
    assert again.tracking_number == "LX 472918365CN"
    other = await aftership.track("UPS", "1Z999AA10123456784")
    assert other.status is TrackingStatus.DELIVERED
    assert len(stub.seen) == 2


async def test_no_tracking_yet_is_not_cached(
    stub: AfterShipStub, aftership: AfterShipTracking
) -> None:
    stub.queue(Reply(body("trackings_pending.json")), Reply(body("trackings_pending.json")))
    for _ in range(2):
        with pytest.raises(TrackingNotFound):
            await aftership.track("YunExpress", "YT2506012345678901")
    assert len(stub.seen) == 2  # the next question may find checkpoints


async def test_a_hanging_server_fails_within_the_timeout() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # keep it open, never answer

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = AfterShipTracking(KEY, timeout=0.5, base_url=f"http://127.0.0.1:{port}")
    started = time.monotonic()
    try:
        with pytest.raises(BackendUnavailable, match="within 0.5s"):
            await client.track("DHL", "1234567890")
    finally:
        elapsed = time.monotonic() - started
        await client.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()
    assert 0.4 < elapsed < 0.9
    assert connections, "the client did connect"


async def test_an_injected_session_is_used_and_left_open(stub: AfterShipStub) -> None:
    stub.queue(Reply(body("trackings_delivered.json")))
    async with aiohttp.ClientSession() as session:
        client = AfterShipTracking(KEY, session=session, base_url=stub.url)
        assert (await client.track("UPS", "1Z999AA10123456784")).latest is not None
        await client.close()
        assert not session.closed


async def test_the_api_version_is_part_of_every_path(stub: AfterShipStub) -> None:
    stub.queue(Reply(body("trackings_delivered.json")))
    client = AfterShipTracking(KEY, api_version="2025-07", base_url=stub.url + "/")
    try:
        await client.track("UPS", "1Z999AA10123456784")
    finally:
        await client.close()
    assert stub.seen[0].path == "/tracking/2025-07/trackings"
