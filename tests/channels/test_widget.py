"""The web widget's channel over a real WebSocket, speaking Engine.IO v4 / Socket.IO v5 frames by
hand exactly as ``widget.js`` does (so the protocol the widget relies on is what is tested), and
the demo storefront page. The browser itself is in ``test_widget_browser.py``."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from borderless.channels.widget.channel import (
    MAX_MESSAGE_CHARS,
    RateLimit,
    WebWidgetInput,
    WebWidgetOutput,
)
from borderless.channels.widget.ratings import ASK_RATING, asks_for_rating
from borderless.channels.widget.storefront import load_products, render_page
from borderless.i18n.nlg import CatalogNLG
from borderless.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from conftest import RunningChannel, ServeChannel

SESSION = "0123456789abcdef0123456789abcdef"


class WidgetSocket:
    """The handful of frames widget.js sends and understands."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.acks = 0

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

    async def call(self, event: str, data: Any, timeout: float = 5.0) -> Any:
        """Emit with an ack id, as widget.js does for a rating, and return the server's answer
        (frames for other events in between are skipped)."""
        self.acks += 1
        ack_id = str(self.acks)
        await self.ws.send_str("42" + ack_id + json.dumps([event, data]))
        while True:
            frame = await self.ws.receive_str(timeout=timeout)
            if frame == "2":
                await self.ws.send_str("3")
            elif frame.startswith("43" + ack_id + "["):
                return json.loads(frame[2 + len(ack_id) :])[0]

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


# -- the rating (CSAT) at the end of a conversation ------------------------------------------------

OTHER = "fedcba9876543210fedcba9876543210"


@dataclass
class Rated:
    running: RunningChannel
    channel: WebWidgetInput
    store: InMemoryTrackerStore
    domain: Domain

    async def conversation(self, sender: str, *, asked: bool = True) -> None:
        """A stored conversation whose last bot message asked for a rating (or did not)."""
        custom = ASK_RATING if asked else None
        events = [
            ActionExecuted(ACTION_LISTEN_NAME),
            UserUttered("bye", {"name": "goodbye", "confidence": 1.0}),
            ActionExecuted("utter_goodbye"),
            BotUttered("Thank you for writing to us.", {"custom": custom}),
            ActionExecuted(ACTION_LISTEN_NAME),
        ]
        tracker = DialogueStateTracker.from_events(sender, events, self.domain.slots)
        await self.store.save(tracker)

    async def ratings(self, sender: str) -> list[Any]:
        tracker = await self.store.retrieve(sender)
        if tracker is None:
            return []
        return [e.value for e in tracker.events if isinstance(e, SlotSet) and e.key == "csat"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@pytest.fixture
async def rated(serve_channel: ServeChannel, domain: Domain) -> AsyncIterator[Rated]:
    """The channel with a real in-memory tracker store and lock store behind the stub agent."""
    channel = WebWidgetInput.from_credentials({})
    assert isinstance(channel, WebWidgetInput)
    async with serve_channel(channel) as running:
        store = InMemoryTrackerStore(domain)
        running.agent.tracker_store = store
        running.agent.lock_store = InMemoryLockStore()
        running.agent.domain = domain
        yield Rated(running, channel, store, domain)


async def test_a_rating_goes_to_the_sockets_own_session_only(rated: Rated) -> None:
    await rated.conversation(SESSION)
    await rated.conversation(OTHER)
    widget = await socket(rated.running)
    await widget.session(SESSION)
    # A session id sent along with the rating is not where it goes.
    answer = await widget.call("csat", {"score": 1, "session_id": OTHER})
    assert answer == {"ok": True}
    assert await rated.ratings(SESSION) == [1]
    assert await rated.ratings(OTHER) == []
    tracker = await rated.store.retrieve(SESSION)
    assert tracker is not None and tracker.get_slot("csat") == 1
    await widget.close()


async def test_a_socket_without_a_session_cannot_rate(rated: Rated) -> None:
    await rated.conversation(SESSION)
    widget = await socket(rated.running)
    answer = await widget.call("csat", {"score": 5, "session_id": SESSION})
    assert answer == {"ok": False, "error": "no_session"}
    assert await rated.ratings(SESSION) == []
    await widget.close()


@pytest.mark.parametrize(
    "data",
    [{"score": 0}, {"score": 6}, {"score": -1}, {"score": 2.5}, {"score": "3"}, {"score": True},
     {"score": None}, {}, {"stars": 4}, 3, "5", None, [1]],
)  # fmt: skip
async def test_only_a_whole_score_from_1_to_5_is_taken(rated: Rated, data: Any) -> None:
    await rated.conversation(SESSION)
    widget = await socket(rated.running)
    await widget.session(SESSION)
    assert await widget.call("csat", data) == {"ok": False, "error": "invalid_score"}
    assert await rated.ratings(SESSION) == []
    # The socket keeps working: a real rating afterwards is taken.
    assert await widget.call("csat", {"score": 4}) == {"ok": True}
    assert await rated.ratings(SESSION) == [4]
    await widget.close()


async def test_a_conversation_is_rated_once(rated: Rated) -> None:
    await rated.conversation(SESSION)
    widget = await socket(rated.running)
    await widget.session(SESSION)
    assert await widget.call("csat", {"score": 2}) == {"ok": True}
    assert await widget.call("csat", {"score": 5}) == {"ok": False, "error": "already_rated"}
    # Nor from another tab, or after a reload.
    reloaded = await socket(rated.running)
    await reloaded.session(SESSION)
    assert await reloaded.call("csat", {"score": 5}) == {"ok": False, "error": "already_rated"}
    assert await rated.ratings(SESSION) == [2]
    for tab in (widget, reloaded):
        await tab.close()


async def test_a_session_without_a_conversation_gets_a_clear_error_and_nothing_is_lost(
    rated: Rated,
) -> None:
    widget = await socket(rated.running)
    await widget.session(SESSION)
    answer = await widget.call("csat", {"score": 3})
    assert answer == {"ok": False, "error": "no_conversation"}
    # No conversation was made up for the rating ...
    assert await rated.store.retrieve(SESSION) is None
    # ... and once the conversation has ended, the same socket rates it.
    await rated.conversation(SESSION)
    assert await widget.call("csat", {"score": 3}) == {"ok": True}
    assert await rated.ratings(SESSION) == [3]
    await widget.close()


async def test_a_conversation_that_was_not_asked_cannot_be_rated(rated: Rated) -> None:
    # Ratings describe ended conversations: a script cannot rate in the middle of one.
    await rated.conversation(SESSION, asked=False)
    widget = await socket(rated.running)
    await widget.session(SESSION)
    assert await widget.call("csat", {"score": 1}) == {"ok": False, "error": "not_asked"}
    assert await rated.ratings(SESSION) == []
    await widget.close()


async def test_without_a_tracker_store_the_rating_is_refused_not_raised(
    running: RunningChannel,
) -> None:
    widget = await socket(running)
    await widget.session(SESSION)
    assert await widget.call("csat", {"score": 1}) == {"ok": False, "error": "unavailable"}
    await widget.close()


async def test_the_request_for_a_rating_reaches_the_widget_in_the_conversations_language(
    rated: Rated,
) -> None:
    """A response with a custom payload, as Rasa's processor sends it; Rasa's own
    SocketIOOutput would raise on it (it passes the payload to emit as keyword arguments)."""

    async def answer(message: UserMessage) -> None:
        assert message.output_channel is not None
        await message.output_channel.send_response(
            message.sender_id,
            {"text": "Auf Wiedersehen!", "custom": ASK_RATING, "language": "de"},
        )

    rated.running.agent.responder = answer
    widget = await socket(rated.running)
    await widget.session(SESSION)
    await widget.emit("user_uttered", {"message": "tschüss", "session_id": SESSION})
    assert await widget.next_event() == ("bot_uttered", {"text": "Auf Wiedersehen!"})
    assert await widget.next_event() == ("bot_uttered", {"custom": ASK_RATING, "language": "de"})
    # The same through the output channel Rasa's HTTP API asks for (the console's hand-back).
    output = rated.channel.get_output_channel()
    assert isinstance(output, WebWidgetOutput)
    await output.send_custom_json(SESSION, dict(ASK_RATING), language="ar")
    assert await widget.next_event() == ("bot_uttered", {"custom": ASK_RATING, "language": "ar"})
    await widget.close()


ENDINGS = ("utter_goodbye", "utter_no_problem", "utter_handoff_back")


@pytest.mark.parametrize("response", ENDINGS)
def test_the_end_of_a_conversation_asks_for_a_rating_on_the_widget_only(
    domain: Domain, response: str
) -> None:
    nlg = CatalogNLG(domain=domain)
    on_widget = nlg.generate_localized(response, {"language": "ja"}, "socketio")
    assert on_widget is not None and on_widget["custom"] == ASK_RATING
    assert on_widget["language"] == "ja"
    for channel in ("whatsapp", "twilio_whatsapp", "messenger", "collector", "rest"):
        elsewhere = nlg.generate_localized(response, {"language": "ja"}, channel)
        assert elsewhere is not None and "custom" not in elsewhere
        # The same words, translated, on every channel.
        assert elsewhere["text"] == on_widget["text"]
    # Nothing else asks: no rating in the middle of a conversation.
    asking = {
        name
        for name, variations in domain.responses.items()
        if any(asks_for_rating(v.get("custom")) for v in variations)
    }
    assert asking == set(ENDINGS)


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
