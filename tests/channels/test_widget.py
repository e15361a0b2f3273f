"""The web widget's channel over a real WebSocket, speaking Engine.IO v4 / Socket.IO v5 frames by
hand exactly as ``widget.js`` does (so the protocol the widget relies on is what is tested), and
the demo storefront page. The browser itself is in ``test_widget_browser.py``."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from borderless.channels.widget.channel import MAX_MESSAGE_CHARS, RateLimit, WebWidgetInput
from borderless.channels.widget.storefront import load_products, render_page

if TYPE_CHECKING:
    from conftest import RunningChannel, ServeChannel

SESSION = "0123456789abcdef0123456789abcdef"


class WidgetSocket:
    """The handful of frames widget.js sends and understands."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, base_url: str) -> WidgetSocket:
        url = base_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        ws = await session.ws_connect(url)
        opened = await ws.receive_str(timeout=5)
        assert opened.startswith("0") and "pingInterval" in opened
        await ws.send_str("40")
        connected = await ws.receive_str(timeout=5)
        assert connected.startswith("40")
        return cls(ws)

    async def emit(self, event: str, data: Any) -> None:
        await self.ws.send_str("42" + json.dumps([event, data]))

    async def next_event(self, timeout: float = 5.0) -> tuple[str, Any]:
        while True:
            frame = await self.ws.receive_str(timeout=timeout)
            if frame == "2":  # ping
                await self.ws.send_str("3")
                continue
            assert frame.startswith("42"), frame
            name, *args = json.loads(frame[2:])
            return name, (args[0] if args else None)

    async def session(self, asked: Any) -> str:
        await self.emit("session_request", {"session_id": asked})
        name, session_id = await self.next_event()
        assert name == "session_confirm"
        return str(session_id)

    async def close(self) -> None:
        await self.ws.close()


@pytest.fixture
async def running(serve_channel: ServeChannel) -> AsyncIterator[RunningChannel]:
    channel = WebWidgetInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered"}
    )
    async with serve_channel(channel) as running:
        yield running


async def socket(running: RunningChannel) -> WidgetSocket:
    return await WidgetSocket.connect(running.session, running.base_url)


async def test_a_valid_session_id_is_kept(running: RunningChannel) -> None:
    widget = await socket(running)
    assert await widget.session(SESSION) == SESSION
    await widget.close()


@pytest.mark.parametrize("asked", [None, "", "4915112345678", "../x", "A" * 32, 12, {"a": 1}])
async def test_any_other_session_id_gets_a_fresh_random_one(
    running: RunningChannel, asked: Any
) -> None:
    # A WhatsApp conversation id is the customer's phone number: a page must not pick it.
    widget = await socket(running)
    session_id = await widget.session(asked)
    assert re.fullmatch(r"[0-9a-f]{32}", session_id) and session_id != asked
    await widget.close()


async def test_message_reaches_rasa_with_only_the_language_hint(running: RunningChannel) -> None:
    widget = await socket(running)
    await widget.session(SESSION)
    await widget.emit(
        "user_uttered",
        {
            "message": "مرحبا",
            "session_id": SESSION,
            # The order form trusts metadata.phone from WhatsApp: a browser must not set it.
            "customData": {"language": "ar-EG", "phone": "+4915112345678"},
        },
    )
    (message,) = await running.agent.wait_for(1)
    assert message.text == "مرحبا"
    assert message.sender_id == SESSION
    assert message.input_channel == "socketio"
    assert message.metadata == {"language": "ar"}
    await widget.close()


async def test_unknown_language_hints_are_dropped(running: RunningChannel) -> None:
    widget = await socket(running)
    await widget.session(SESSION)
    await widget.emit("user_uttered", {"message": "hi", "session_id": SESSION, "customData": "ru"})
    await widget.emit(
        "user_uttered", {"message": "x" * 5000, "session_id": SESSION, "customData": {"locale": 3}}
    )
    first, second = await running.agent.wait_for(2)
    assert first.metadata == {} and second.metadata == {}
    assert len(second.text or "") == MAX_MESSAGE_CHARS
    await widget.close()


@pytest.mark.parametrize(
    "data",
    [
        {"message": "hi"},  # no session id
        {"message": "hi", "session_id": "4915112345678"},
        {"message": 42, "session_id": SESSION},
        {"message": "   ", "session_id": SESSION},
        "hi",
        None,
    ],
)
async def test_bad_messages_are_ignored_and_the_socket_keeps_working(
    running: RunningChannel, data: Any
) -> None:
    widget = await socket(running)
    await widget.session(SESSION)
    await widget.emit("user_uttered", data)
    await widget.emit("user_uttered", {"message": "still here", "session_id": SESSION})
    messages = await running.agent.wait_for(1)
    await asyncio.sleep(0.2)
    assert [m.text for m in messages] == ["still here"]
    await widget.close()


async def test_replies_reach_every_tab_of_the_session(running: RunningChannel) -> None:
    async def answer(message: UserMessage) -> None:
        assert message.output_channel is not None
        await message.output_channel.send_text_with_buttons(
            message.sender_id,
            "Can I help with anything else?",
            [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        )

    running.agent.responder = answer
    first, reloaded = await socket(running), await socket(running)
    await first.session(SESSION)
    await reloaded.session(SESSION)
    other = await socket(running)
    await other.session(None)
    await first.emit("user_uttered", {"message": "hello", "session_id": SESSION})
    for tab in (first, reloaded):
        name, data = await tab.next_event()
        assert name == "bot_uttered"
        assert data["text"] == "Can I help with anything else?"
        assert [b["payload"] for b in data["quick_replies"]] == ["/affirm", "/deny"]
    with pytest.raises(asyncio.TimeoutError):
        await other.next_event(timeout=0.5)
    for tab in (first, reloaded, other):
        await tab.close()


async def test_an_agent_reply_through_the_output_channel_reaches_the_widget(
    running: RunningChannel,
) -> None:
    # The console sends with output_channel=socketio: Rasa asks the input channel for it.
    widget = await socket(running)
    await widget.session(SESSION)
    channel = WebWidgetInput.from_credentials({})
    assert channel.name() == "socketio"
    await widget.emit("user_uttered", {"message": "hello", "session_id": SESSION})
    (message,) = await running.agent.wait_for(1)
    assert message.output_channel is not None
    await message.output_channel.send_text_message(SESSION, "Mia here, how can I help?")
    name, data = await widget.next_event()
    assert (name, data["text"]) == ("bot_uttered", "Mia here, how can I help?")
    await widget.close()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("widget.js", "application/javascript"), ("widget.css", "text/css")],
)
async def test_the_widget_files_are_served(
    running: RunningChannel, name: str, content_type: str
) -> None:
    async with running.session.get(f"{running.base_url}/webhooks/socketio/{name}") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith(content_type)
        assert len(await response.read()) > 1000


@pytest.mark.parametrize("name", ["channel.py", "..%2Fchannel.py", "storefront.html"])
async def test_nothing_else_is_served(running: RunningChannel, name: str) -> None:
    async with running.session.get(f"{running.base_url}/webhooks/socketio/{name}") as response:
        assert response.status == 404


async def test_health(running: RunningChannel) -> None:
    async with running.session.get(f"{running.base_url}/webhooks/socketio/") as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}


# -- the storefront page --------------------------------------------------------------------------


def test_storefront_embeds_the_widget_from_the_rasa_server() -> None:
    page = render_page("en", "http://127.0.0.1:5005", load_products())
    assert '<html lang="en" dir="ltr">' in page
    assert 'window.BorderlessWidget = {"rasaUrl": "http://127.0.0.1:5005"};' in page
    assert '<script src="http://127.0.0.1:5005/webhooks/socketio/widget.js" defer>' in page
    assert "Wireless Earbuds Pro 2" in page and "$89.00" in page


def test_storefront_in_arabic_is_right_to_left_with_arabic_names() -> None:
    page = render_page("ar", "http://127.0.0.1:5005", load_products())
    assert '<html lang="ar" dir="rtl">' in page
    assert "سماعات" in page and 'aria-current="page">العربية' in page


def test_a_hostile_rasa_url_cannot_break_out_of_the_script() -> None:
    page = render_page("en", 'http://x/"</script><script>alert(1)</script>', load_products())
    assert "<script>alert(1)" not in page


async def test_why_not_rasas_own_socketio_channel(serve_channel: ServeChannel) -> None:
    """Rasa 3.6's SocketIOInput with session persistence does not await python-socketio 5.x's
    ``enter_room`` coroutine, so the session's room stays empty and replies reach nobody; and
    it takes any session id. If this starts failing, Rasa or python-socketio changed: revisit
    docs/channels.md."""
    from rasa.core.channels.socketio import SocketIOInput

    async def answer(message: UserMessage) -> None:
        assert message.output_channel is not None
        await message.output_channel.send_text_message(message.sender_id, "Hello!")

    channel = SocketIOInput.from_credentials({"session_persistence": True})
    async with serve_channel(channel) as running:
        running.agent.responder = answer
        widget = await socket(running)
        assert await widget.session("4915112345678") == "4915112345678"  # any id goes
        await widget.emit("user_uttered", {"message": "hi", "session_id": "4915112345678"})
        await running.agent.wait_for(1)
        with pytest.raises(asyncio.TimeoutError):
            await widget.next_event(timeout=0.5)
        await widget.close()


async def test_a_flooding_session_is_cut_off(serve_channel: ServeChannel) -> None:
    channel = WebWidgetInput.from_credentials({"max_messages_per_minute": 3})
    async with serve_channel(channel) as running:
        widget = await socket(running)
        await widget.session(SESSION)
        for number in range(6):
            await widget.emit("user_uttered", {"message": f"m{number}", "session_id": SESSION})
        await running.agent.wait_for(3)
        await asyncio.sleep(0.3)
        assert [m.text for m in running.agent.finished] == ["m0", "m1", "m2"]
        await widget.close()


def test_the_rate_limit_is_a_sliding_minute() -> None:
    now = [0.0]
    limit = RateLimit(2, clock=lambda: now[0], maxsize=2)
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a")
    now[0] = 59.9
    assert not limit.allow("a")
    now[0] = 60.0
    assert limit.allow("a")
    limit.allow("b"), limit.allow("c")  # "a" is the oldest and is forgotten
    assert limit.allow("a") and limit.allow("a")
