"""Helpers for the WhatsApp channel tests: the channel in a real Sanic server, a stand-in agent,
and a local HTTP server playing the provider's send API (Graph API or Twilio).

The channel is mounted with Rasa's own ``rasa.core.channels.channel.register`` under
``/webhooks/``, exactly as ``rasa run`` does, and requests go over loopback HTTP, so routing,
streaming bodies, headers and the server's lifecycle listeners are all the real ones. Only the
agent is replaced: it records each ``UserMessage`` and can answer through the message's output
channel like a bot turn would.

Test modules get these through fixtures (``serve_channel``, ``eventually``, ``provider_api``)
rather than ``from conftest import``: with several ``conftest.py`` files and no packages, which
module is called ``conftest`` depends on the collection order. Type names are imported only for
annotations (under ``TYPE_CHECKING``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import InputChannel, UserMessage, register
from sanic import Sanic

from borderless.launcher import free_port


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for background work (a bot turn runs after the webhook has answered)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


Responder = Callable[[UserMessage], Awaitable[None]]


@dataclass
class StubAgent:
    """Stands in for ``rasa.core.agent.Agent``: ``register`` calls ``handle_message``."""

    started: list[UserMessage] = field(default_factory=list)
    finished: list[UserMessage] = field(default_factory=list)
    responder: Responder | None = None
    # What a channel may use beside handle_message (the widget's rating): set by the test.
    tracker_store: Any = None
    lock_store: Any = None
    domain: Any = None

    async def handle_message(self, message: UserMessage) -> None:
        self.started.append(message)
        if self.responder is not None:
            await self.responder(message)
        self.finished.append(message)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[UserMessage]:
        await eventually(lambda: len(self.finished) >= count, timeout)
        return self.finished


@dataclass
class RunningChannel:
    base_url: str
    agent: StubAgent
    session: aiohttp.ClientSession


@asynccontextmanager
async def run_channel(channel: InputChannel) -> AsyncIterator[RunningChannel]:
    """Runs ``channel`` in a Sanic server on a free loopback port until the block ends; the
    server is stopped the way ``rasa run`` stops it, so ``before_server_stop`` runs."""
    # Sanic 21.12 rewrites its request handler ("touch-up") at every app start-up and fails the
    # second time in a process unless in test mode (which sanic-testing would switch on); it
    # stays on for the session, as once touched up in test mode it must remain so.
    Sanic.test_mode = True
    app = Sanic(f"channel_test_{uuid.uuid4().hex}", configure_logging=False)
    agent = StubAgent()
    app.ctx.agent = agent
    register([channel], app, route="/webhooks/")
    server = await app.create_server(
        # Sanic 21.12 turns port 0 into 8000: ask the OS for a free port instead.
        host="127.0.0.1",
        port=free_port(),
        return_asyncio_server=True,
        access_log=False,
    )
    assert server is not None and server.server is not None
    port = server.server.sockets[0].getsockname()[1]
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        async with aiohttp.ClientSession() as session:
            yield RunningChannel(f"http://127.0.0.1:{port}", agent, session)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    form: list[tuple[str, str]]


@dataclass
class ProviderApi:
    """A local HTTP server playing Graph API / Twilio: records requests, replays answers.

    ``script`` holds answers for the next requests in order (status, JSON body, headers);
    when it is empty every request gets ``default``.
    """

    default: tuple[int, Any] = (200, {"messages": [{"id": "wamid.outbound"}]})
    script: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.script.append((status, body, headers or {}))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        form: list[tuple[str, str]] = []
        body: Any = None
        if request.content_type == "application/x-www-form-urlencoded":
            form = [(key, str(value)) for key, value in (await request.post()).items()]
        elif raw:
            body = json.loads(raw)
        self.requests.append(
            Recorded(request.method, request.path, dict(request.headers), body, form)
        )
        status, answer, headers = self.script.pop(0) if self.script else (*self.default, {})
        return web.json_response(answer, status=status, headers=headers)

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Recorded]:
        await eventually(lambda: len(self.requests) >= count, timeout)
        return self.requests


@pytest.fixture
async def provider_api() -> AsyncIterator[ProviderApi]:
    api = ProviderApi()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", api.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.base_url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        await runner.cleanup()


ServeChannel = Callable[[InputChannel], AbstractAsyncContextManager[RunningChannel]]
Eventually = Callable[..., Awaitable[None]]


@pytest.fixture(name="serve_channel")
def serve_channel_fixture() -> ServeChannel:
    """``async with serve_channel(channel) as running:`` — the channel in a live server."""
    return run_channel


@pytest.fixture(name="eventually")
def eventually_fixture() -> Eventually:
    """``await eventually(lambda: condition)`` — wait for background work, fail after 5 s."""
    return eventually
