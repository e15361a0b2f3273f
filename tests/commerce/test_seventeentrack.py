"""``SeventeenTrackTracking`` against a local server replaying 17TRACK's documented bodies.

The bodies live in ``fixtures/seventeentrack`` (see its README for where each shape comes
from); every test checks what the adapter sent as well as what it made of the answer.
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

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    RateLimited,
    TrackingNotFound,
)
from borderless.commerce.models import TrackingStatus
from borderless.commerce.protocols import LogisticsSystem
from borderless.commerce.seventeentrack import SeventeenTrackTracking

FIXTURES = Path(__file__).parent / "fixtures" / "seventeentrack"
KEY = "17tk-0123456789ABCDEF"
S = TrackingStatus


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
    token: str | None
    content_type: str
    json: Any


class SeventeenTrackStub:
    """Stands in for api.17track.net: answers with queued replies in order, records requests."""

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
                request.headers.get("17token"),
                request.content_type,
                payload,
            )
        )
        if not self.replies:
            return web.json_response({"unexpected": "request"}, status=418)
        reply = self.replies.pop(0)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)


@pytest.fixture
async def stub() -> AsyncIterator[SeventeenTrackStub]:
    fake = SeventeenTrackStub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    server = TestServer(app, host="127.0.0.1")  # a free port
    await server.start_server()
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


@pytest.fixture
async def track17(stub: SeventeenTrackStub) -> AsyncIterator[SeventeenTrackTracking]:
    client = SeventeenTrackTracking(KEY, base_url=stub.url, backoff=0.05)
    yield client
    await client.close()


def post(operation: str, *items: dict[str, Any]) -> Seen:
    return Seen("POST", f"/track/v2.2/{operation}", KEY, "application/json", list(items))


def test_implements_the_protocol_without_io_at_construction() -> None:
    client = SeventeenTrackTracking(KEY)  # no running loop needed
    assert isinstance(client, LogisticsSystem)
    assert client.http._session is None
    assert client.http.base_url == "https://api.17track.net/track/v2.2"


async def test_in_transit_across_two_carriers_with_customs_in_words(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("gettrackinfo_in_transit.json")))
    tracking = await track17.track("China Post", "LX472918365CN")

    assert stub.seen == [post("gettrackinfo", {"number": "LX472918365CN", "carrier": 3011})]
    assert tracking.carrier == "China Post"
    assert tracking.tracking_number == "LX472918365CN"
    # 17TRACK says InTransit_Other; the German message says customs ("Zoll").
    assert tracking.status is S.CUSTOMS
    assert [(c.status, c.message) for c in tracking.checkpoints] == [
        (S.INFO_RECEIVED, "电子信息已收到"),
        (S.IN_TRANSIT, "深圳市邮政速递物流公司已收寄"),
        (S.IN_TRANSIT, "离开广州国际处理中心，发往德国"),
        (S.IN_TRANSIT, "Die Sendung ist im Zielland angekommen."),
        (S.CUSTOMS, "Die Sendung wird vom Zoll geprüft."),
    ]
    times = [c.time for c in tracking.checkpoints]
    assert times == sorted(times)  # 17TRACK sends newest first, per carrier
    assert times[0] == datetime(2025, 3, 1, 1, 12, tzinfo=timezone.utc)
    assert tracking.checkpoints[0].location == "深圳市"
    assert tracking.checkpoints[-1].location == "Frankfurt"
    assert tracking.estimated_delivery == date(2025, 3, 12)  # "to" of the 10-12 window
    assert tracking.tracking_url == "https://t.17track.net/en#nums=LX472918365CN"


async def test_delivered_with_customs_in_its_history(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("gettrackinfo_delivered.json")))
    tracking = await track17.track("China Post", "RR123456789CN")
    assert tracking.status is S.DELIVERED
    assert [c.status for c in tracking.checkpoints] == [
        S.IN_TRANSIT,
        S.CUSTOMS,  # InTransit_CustomsProcessing, though the text does not say customs
        S.IN_TRANSIT,  # InTransit_CustomsReleased, though the text says "aduana"
        S.OUT_FOR_DELIVERY,
        S.DELIVERED,
    ]
    assert tracking.estimated_delivery is None  # delivered: nothing left to estimate
    assert tracking.latest is not None
    assert tracking.latest.time == datetime(2025, 2, 27, 10, 20, tzinfo=timezone.utc)


async def test_exception(stub: SeventeenTrackStub, track17: SeventeenTrackTracking) -> None:
    stub.queue(Reply(body("gettrackinfo_exception.json")))
    tracking = await track17.track("China Post", "UB123456785CN")
    assert tracking.status is S.EXCEPTION
    assert [c.status for c in tracking.checkpoints] == [S.IN_TRANSIT, S.EXCEPTION]
    assert tracking.estimated_delivery is None  # 17TRACK gave none


async def test_an_unregistered_number_is_registered_and_reported_as_no_tracking_yet(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(
        Reply(body("gettrackinfo_not_registered.json")),
        Reply(body("register_accepted.json")),
    )
    with pytest.raises(TrackingNotFound, match="registered"):
        await track17.track("YunExpress", "YT2506012345678901")
    # No carrier code we are sure of for YunExpress: 17TRACK detects it.
    item = {"number": "YT2506012345678901"}
    assert stub.seen == [post("gettrackinfo", item), post("register", item)]


async def test_registered_by_someone_else_meanwhile_is_no_tracking_yet(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(
        Reply(body("gettrackinfo_not_registered.json")),
        Reply(body("register_already_registered.json")),
    )
    with pytest.raises(TrackingNotFound):
        await track17.track("YunExpress", "YT2506012345678901")
    assert len(stub.seen) == 2


async def test_registered_without_information_yet_costs_no_quota(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("gettrackinfo_registered_no_information.json")))
    with pytest.raises(TrackingNotFound):
        await track17.track("China Post", "CN000000001DE")
    assert [s.path for s in stub.seen] == ["/track/v2.2/gettrackinfo"]  # no register


async def test_no_information_at_this_time_is_no_tracking_yet(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    answer = body("gettrackinfo_not_registered.json")
    answer["data"]["rejected"][0]["error"] = {
        "code": -18019909,
        "message": "No tracking information at this time.",
    }
    stub.queue(Reply(answer))
    with pytest.raises(TrackingNotFound):
        await track17.track("YunExpress", "YT2506012345678901")
    assert len(stub.seen) == 1


@pytest.mark.parametrize("fixture", ["register_quota_exhausted.json", "register_quota_4031.json"])
async def test_exhausted_quota_is_rate_limited(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking, fixture: str
) -> None:
    stub.queue(Reply(body("gettrackinfo_not_registered.json")), Reply(body(fixture)))
    with pytest.raises(RateLimited, match="quota") as caught:
        await track17.track("YunExpress", "YT2506012345678901")
    assert caught.value.system == "17track"
    assert [s.path for s in stub.seen] == ["/track/v2.2/gettrackinfo", "/track/v2.2/register"]


async def test_an_invalid_token_in_the_envelope_is_rejected(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("error_token_invalid.json")))
    with pytest.raises(BackendRejected, match="API key"):
        await track17.track("DHL", "1234567890")


@pytest.mark.parametrize("code", [-18010012, "-18010012", {"nested": True}, None])
async def test_other_rejections_are_rejections(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking, code: Any
) -> None:
    answer = body("gettrackinfo_not_registered.json")
    answer["data"]["rejected"][0]["error"] = {
        "code": code,
        "message": "The format of {0} is invalid.",
    }
    stub.queue(Reply(answer))
    with pytest.raises(BackendRejected):
        await track17.track("YunExpress", "YT2506012345678901")
    assert len(stub.seen) == 1  # nothing registered on an error we do not understand


async def test_http_401_is_rejected(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("error_401.json"), status=401))
    with pytest.raises(BackendRejected) as caught:
        await track17.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("17track", 401)
    assert len(stub.seen) == 1  # a bad key is not retried


async def test_429_then_success(stub: SeventeenTrackStub, track17: SeventeenTrackTracking) -> None:
    stub.queue(
        Reply(body("error_429.json"), status=429),
        Reply(body("gettrackinfo_in_transit.json")),
    )
    tracking = await track17.track("China Post", "LX472918365CN")
    assert tracking.status is S.CUSTOMS
    assert stub.seen == [post("gettrackinfo", {"number": "LX472918365CN", "carrier": 3011})] * 2


async def test_persistent_429_is_rate_limited(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(*[Reply(body("error_429.json"), status=429)] * 3)
    with pytest.raises(RateLimited) as caught:
        await track17.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("17track", 429)
    assert len(stub.seen) == 2


async def test_persistent_5xx_is_unavailable(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(*[Reply({"code": 500, "data": {}}, status=503)] * 3)
    with pytest.raises(BackendUnavailable) as caught:
        await track17.track("DHL", "1234567890")
    assert (caught.value.system, caught.value.status) == ("17track", 503)
    assert len(stub.seen) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"code": 0, "data": {"accepted": [], "rejected": []}},  # neither accepted nor rejected
        {"code": 0},
        ["not", "an", "object"],
        {
            "code": 0,
            "data": {"accepted": [{"number": "1234567890", "track_info": {"tracking": 5}}]},
        },
    ],
)
async def test_malformed_answers_are_unavailable(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking, answer: Any
) -> None:
    stub.queue(Reply(answer))
    with pytest.raises(BackendUnavailable):
        await track17.track("DHL", "1234567890")


async def test_answers_are_cached_per_number(
    stub: SeventeenTrackStub, track17: SeventeenTrackTracking
) -> None:
    stub.queue(Reply(body("gettrackinfo_in_transit.json")))
    first = await track17.track("China Post", "LX472918365CN")
    again = await track17.track("China Post", "LX472918365CN")
    assert again == first
    assert len(stub.seen) == 1


async def test_a_hanging_server_fails_within_the_timeout() -> None:
    connections: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # keep it open, never answer

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = SeventeenTrackTracking(KEY, timeout=0.5, base_url=f"http://127.0.0.1:{port}")
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


async def test_an_injected_session_is_used_and_left_open(stub: SeventeenTrackStub) -> None:
    stub.queue(Reply(body("gettrackinfo_delivered.json")))
    async with aiohttp.ClientSession() as session:
        client = SeventeenTrackTracking(KEY, session=session, base_url=stub.url)
        assert (await client.track("China Post", "RR123456789CN")).latest is not None
        await client.close()
        assert not session.closed
