"""The Rasa HTTP API client against a local server of the documented shape (never Rasa itself).

What is checked is the wire: paths, query parameters (token, output_channel,
execute_side_effects), JSON bodies, and that every failure becomes RasaApiError.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from borderless.handoff.rasa_api import RESUME_EVENTS, RasaApiError, RasaHttpApi


class Stub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], Any]] = []
        self.status = 200
        self.body: str = '{"sender_id": "c", "events": []}'
        self.delay = 0.0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.calls.append(
            (request.method, request.raw_path.split("?")[0], dict(request.query), body)
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        return web.Response(status=self.status, text=self.body, content_type="application/json")


@pytest.fixture
async def stub() -> AsyncIterator[Stub]:
    stub = Stub()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", stub.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    stub.url = f"http://{host}:{port}/"
    yield stub
    await runner.cleanup()


async def test_send_agent_message_is_a_bot_event_with_side_effects(stub: Stub) -> None:
    api = RasaHttpApi(stub.url, "tok")
    await api.send_agent_message("whatsapp:+49 151/1", "Hallo", "whatsapp")
    [(method, path, query, body)] = stub.calls
    assert method == "POST"
    assert path == "/conversations/whatsapp:%2B49%20151%2F1/tracker/events"  # yarl keeps ":"
    assert query == {"output_channel": "whatsapp", "execute_side_effects": "true", "token": "tok"}
    assert body == {"event": "bot", "text": "Hallo", "metadata": {"sender": "agent"}}


async def test_pause_resume_and_trigger_intent(stub: Stub) -> None:
    api = RasaHttpApi(stub.url, "tok")
    await api.pause("c1")
    await api.resume("c1")
    await api.trigger_intent("c1", "EXTERNAL_handoff_resolved", entities={"agent": "mia"})
    assert [(c[1], c[3]) for c in stub.calls] == [
        ("/conversations/c1/tracker/events", {"event": "pause"}),
        ("/conversations/c1/tracker/events", RESUME_EVENTS),
        (
            "/conversations/c1/trigger_intent",
            {"name": "EXTERNAL_handoff_resolved", "entities": {"agent": "mia"}},
        ),
    ]
    assert stub.calls[2][2] == {"output_channel": "latest", "token": "tok"}


async def test_tracker_asks_for_all_events_without_a_token_when_none(stub: Stub) -> None:
    stub.body = '{"sender_id": "c1", "events": [{"event": "user", "text": "hi"}]}'
    tracker = await RasaHttpApi(stub.url).tracker("c1")
    assert tracker["events"][0]["text"] == "hi"
    assert stub.calls[0][:3] == ("GET", "/conversations/c1/tracker", {"include_events": "ALL"})


async def test_an_injected_session_is_used_and_left_open(stub: Stub) -> None:
    async with aiohttp.ClientSession() as session:
        api = RasaHttpApi(stub.url, session=session)
        await api.resume("c1")
        assert not session.closed


@pytest.mark.parametrize(("status", "body"), [(401, '{"reason": "NotAuthenticated"}'), (500, "x")])
async def test_error_statuses_raise(stub: Stub, status: int, body: str) -> None:
    stub.status, stub.body = status, body
    with pytest.raises(RasaApiError) as caught:
        await RasaHttpApi(stub.url, "tok").resume("c1")
    assert caught.value.status == status


async def test_invalid_json_and_non_object_trackers_raise(stub: Stub) -> None:
    stub.body = "<html>"
    with pytest.raises(RasaApiError, match="invalid JSON"):
        await RasaHttpApi(stub.url).resume("c1")
    stub.body = "[]"
    with pytest.raises(RasaApiError, match="not a JSON object"):
        await RasaHttpApi(stub.url).tracker("c1")


async def test_timeouts_and_refused_connections_raise(stub: Stub) -> None:
    stub.delay = 1.0
    with pytest.raises(RasaApiError) as caught:
        await RasaHttpApi(stub.url, timeout=0.1).resume("c1")
    assert caught.value.status is None
    with pytest.raises(RasaApiError):
        await RasaHttpApi("http://127.0.0.1:9", timeout=1).resume("c1")
