"""The Messenger channel over real HTTP: a Sanic app serving its blueprint, a local Graph API.

Meta is played by an aiohttp server on loopback that records every Send API body and serves
user profiles, so the channel's own HTTP client, timeouts and query parameters are exercised.
Webhook bodies are the documented shapes in ``fixtures/messenger_*.json``; tests sign them
(or not) exactly as Meta does.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from borderless.channels.messenger import (
    MAX_BODY_BYTES,
    MessengerError,
    MessengerInput,
    MessengerOutput,
    MessengerSendError,
    OutsideMessagingWindow,
    split_text,
    verify_signature,
)
from borderless.i18n.language import normalize_locale

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "test-app-secret"
VERIFY = "test-verify-token"
PAGE_TOKEN = "test-page-token"
API_VERSION = "v21.0"
PSID = "6543210987654321"
OTHER_PSID = "7777000011112222"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"messenger_{name}.json").read_text())


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# ------------------------------------------------------------------------------------------
# Meta, played locally


@dataclass
class GraphStub:
    """Records Send API bodies and profile look-ups; serves locales; can be told to fail."""

    url: str = ""
    sends: list[dict[str, Any]] = field(default_factory=list)
    send_queries: list[dict[str, str]] = field(default_factory=list)
    profile_calls: list[dict[str, str]] = field(default_factory=list)
    locales: dict[str, str] = field(default_factory=lambda: {PSID: "de_DE"})
    profile_status: int = 200
    profile_delay: float = 0.0
    send_error: dict[str, Any] | None = None

    async def messages(self, request: web.Request) -> web.Response:
        self.send_queries.append(dict(request.query))
        body = await request.json()
        self.sends.append(body)
        if self.send_error is not None:
            return web.json_response({"error": self.send_error}, status=400)
        return web.json_response(
            {"recipient_id": body["recipient"]["id"], "message_id": f"m_sent_{len(self.sends)}"}
        )

    async def profile(self, request: web.Request) -> web.Response:
        psid = request.match_info["psid"]
        self.profile_calls.append({"psid": psid, **request.query})
        if self.profile_delay:
            await asyncio.sleep(self.profile_delay)
        if self.profile_status != 200:
            error = {"message": "Unsupported get request", "type": "GraphMethodException"}
            return web.json_response({"error": {**error, "code": 100}}, status=self.profile_status)
        answer = {"first_name": "Anna", "id": psid}
        if psid in self.locales:
            answer["locale"] = self.locales[psid]
        return web.json_response(answer)


@pytest.fixture
async def graph() -> AsyncIterator[GraphStub]:
    stub = GraphStub()
    app = web.Application()
    app.router.add_post(f"/{API_VERSION}/me/messages", stub.messages)
    app.router.add_get(f"/{API_VERSION}/{{psid}}", stub.profile)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    stub.url = f"http://{host}:{port}"
    yield stub
    await runner.cleanup()


# ------------------------------------------------------------------------------------------
# Rasa, played by a collector; the channel served by a real Sanic app


class Collector:
    """Stands in for Rasa's ``on_new_message``; ``reply`` lets a test answer like the bot."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []
        self.reply: Callable[[UserMessage], Awaitable[None]] | None = None

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        if self.reply is not None:
            await self.reply(message)


@dataclass
class Webhook:
    url: str
    channel: MessengerInput
    collector: Collector
    http: aiohttp.ClientSession

    async def post(
        self, payload: Any, *, signature: str | None = "sign", **headers: str
    ) -> aiohttp.ClientResponse:
        body = payload if isinstance(payload, bytes) else encode(payload)
        if signature == "sign":
            headers["X-Hub-Signature-256"] = sign(body)
        elif signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with self.http.post(
            self.url, data=body, headers={"Content-Type": "application/json", **headers}
        ) as answer:
            await answer.read()
            return answer

    async def delivered(self, payload: Any) -> list[UserMessage]:
        """POST a signed payload, expect Meta's 200, and wait for the background work."""
        answer = await self.post(payload)
        assert answer.status == 200
        await self.channel.drain()
        return self.collector.messages


@pytest.fixture
async def webhook(graph: GraphStub) -> AsyncIterator[Webhook]:
    channel = MessengerInput(
        VERIFY, SECRET, PAGE_TOKEN, graph_url=graph.url, api_version=API_VERSION
    )
    collector = Collector()
    # Sanic 21.12 rewrites its request handler ("touch-up") on every app start-up and fails on
    # the second one in a process unless in test mode (what sanic-testing switches on). Left on
    # for the rest of the session: once touched up in test mode, it must stay in test mode.
    Sanic.test_mode = True
    app = Sanic(f"messenger_test_{uuid.uuid4().hex}")
    app.blueprint(channel.blueprint(collector), url_prefix="/webhooks/messenger")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    async with aiohttp.ClientSession() as http:
        yield Webhook(
            f"http://127.0.0.1:{port}/webhooks/messenger/webhook", channel, collector, http
        )
    await server.before_stop()
    await server.close()
    await server.wait_closed()
    await server.after_stop()


# ------------------------------------------------------------------------------------------
# Handshake


async def test_handshake_echoes_the_challenge_for_the_right_token(webhook: Webhook) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    async with webhook.http.get(webhook.url, params=query) as answer:
        assert answer.status == 200
        assert await answer.text() == "1158201444"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ],
)
async def test_handshake_refuses_anything_else(webhook: Webhook, query: dict[str, str]) -> None:
    async with webhook.http.get(webhook.url, params=query) as answer:
        assert answer.status == 403
        assert "1" not in await answer.text()


# ------------------------------------------------------------------------------------------
# Signature, size, shape


async def test_signed_text_message_reaches_rasa_with_metadata_and_locale(
    webhook: Webhook, graph: GraphStub
) -> None:
    payload = fixture("text")
    answer = await webhook.post(payload)
    assert answer.status == 200
    await webhook.channel.drain()

    [message] = webhook.collector.messages
    mid = payload["entry"][0]["messaging"][0]["message"]["mid"]
    assert message.text == "Wo ist meine Bestellung BL-10001?"
    assert message.sender_id == PSID
    assert message.input_channel == "messenger"
    assert message.message_id == mid
    assert isinstance(message.output_channel, MessengerOutput)
    assert message.metadata == {"channel": "messenger", "psid": PSID, "mid": mid, "locale": "de_DE"}
    # What LanguageDetector makes of the hint.
    assert normalize_locale(message.metadata["locale"]) == "de"

    [lookup] = graph.profile_calls
    assert lookup["psid"] == PSID
    assert lookup["fields"] == "locale,first_name"
    assert lookup["access_token"] == PAGE_TOKEN
    proof = hmac.new(SECRET.encode(), PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert lookup["appsecret_proof"] == proof


@pytest.mark.parametrize(
    "signature",
    [
        None,  # unsigned
        sign(b"another body"),  # signed, but not this body
        "sha256=" + hmac.new(b"wrong-secret", b"", hashlib.sha256).hexdigest(),
        "sha256=",
        "sha256=zz-not-hex-\u00e9",
        "md5=0123",
    ],
    ids=["unsigned", "other-body", "wrong-secret", "empty", "garbage", "other-prefix"],
)
async def test_unverified_posts_are_refused_and_not_processed(
    webhook: Webhook, graph: GraphStub, signature: str | None
) -> None:
    answer = await webhook.post(fixture("text"), signature=signature)
    assert answer.status == 403
    await webhook.channel.drain()
    assert webhook.collector.messages == []
    assert graph.profile_calls == []


async def test_a_valid_sha1_signature_alone_is_not_enough(webhook: Webhook) -> None:
    body = encode(fixture("text"))
    sha1 = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    answer = await webhook.post(body, signature=None, **{"X-Hub-Signature": sha1})
    assert answer.status == 403
    await webhook.channel.drain()
    assert webhook.collector.messages == []


async def test_the_signature_covers_the_raw_bytes_not_the_parsed_json(webhook: Webhook) -> None:
    """Meta signs the bytes it sends; re-serialised JSON would not match, these bytes must."""
    body = json.dumps(fixture("text"), indent=3, ensure_ascii=True).encode()
    answer = await webhook.post(body, signature=sign(body))
    assert answer.status == 200
    await webhook.channel.drain()
    assert len(webhook.collector.messages) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "invalid JSON"),
        (b"\xff\xfe\x00garbage", "invalid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (encode({"object": "whatsapp_business_account", "entry": []}), 'object must be "page"'),
        (encode({"object": "page"}), "entry must be a list"),
        (encode({"object": "page", "entry": [{"messaging": {"a": 1}}]}), "must be a list"),
        (
            encode(
                {
                    "object": "page",
                    "entry": [{"messaging": [{"message": {"mid": "m", "text": "x"}}]}],
                }
            ),
            "sender.id is missing",
        ),
        (
            encode(
                {
                    "object": "page",
                    "entry": [{"messaging": [{"sender": {"id": PSID}, "message": {"text": "x"}}]}],
                }
            ),
            "message.mid is missing",
        ),
        (
            encode(
                {
                    "object": "page",
                    "entry": [{"messaging": [{"sender": {"id": PSID}, "postback": {}}]}],
                }
            ),
            "postback.payload is missing",
        ),
        (b"[" * 100_000, "invalid JSON"),
    ],
)
async def test_malformed_signed_bodies_get_a_400_json_error(
    webhook: Webhook, body: bytes, problem: str
) -> None:
    async with webhook.http.post(
        webhook.url, data=body, headers={"X-Hub-Signature-256": sign(body)}
    ) as answer:
        assert answer.status == 400
        assert problem in (await answer.json())["error"]
    await webhook.channel.drain()
    assert webhook.collector.messages == []


async def test_oversized_bodies_are_refused_with_413(webhook: Webhook) -> None:
    payload = fixture("text")
    payload["entry"][0]["messaging"][0]["message"]["text"] = "x" * MAX_BODY_BYTES
    body = encode(payload)
    # With a Content-Length (refused before reading) ...
    assert (await webhook.post(body)).status == 413

    # ... and chunked, without one (refused while streaming, the rest never buffered).
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 16 * 1024):
            yield body[start : start + 16 * 1024]

    headers = {"X-Hub-Signature-256": sign(body)}
    async with webhook.http.post(webhook.url, data=chunks(), headers=headers) as answer:
        assert answer.status == 413
    await webhook.channel.drain()
    assert webhook.collector.messages == []
    # The connection pool is still usable afterwards.
    assert len(await webhook.delivered(fixture("text"))) == 1


# ------------------------------------------------------------------------------------------
# Event kinds


async def test_a_redelivered_mid_is_processed_once(webhook: Webhook) -> None:
    payload = fixture("text")
    assert (await webhook.post(payload)).status == 200
    assert (await webhook.post(payload)).status == 200  # Meta still gets its 200
    await webhook.channel.drain()
    assert len(webhook.collector.messages) == 1


async def test_quick_reply_payload_wins_over_its_title(webhook: Webhook) -> None:
    [message] = await webhook.delivered(fixture("quick_reply"))
    assert message.text == "/track_shipment"


async def test_postback_payload_is_the_text(webhook: Webhook) -> None:
    [message] = await webhook.delivered(fixture("postback"))
    assert message.text == "/greet"
    assert message.metadata is not None
    assert message.metadata["mid"].startswith("m_pb")


async def test_echoes_deliveries_and_reads_are_ignored(webhook: Webhook, graph: GraphStub) -> None:
    assert await webhook.delivered(fixture("receipts")) == []
    assert graph.profile_calls == []


async def test_attachments_arrive_as_empty_text_with_their_types(webhook: Webhook) -> None:
    [message] = await webhook.delivered(fixture("attachment"))
    assert message.text == ""
    assert message.metadata is not None
    assert message.metadata["attachments"] == ["image"]
    assert message.metadata["locale"] == "de_DE"


async def test_unknown_entries_like_standby_are_acknowledged(webhook: Webhook) -> None:
    """Handover 'standby' entries have no 'messaging'; a 400 would make Meta retry forever."""
    payload = {"object": "page", "entry": [{"id": "1", "time": 1, "standby": [{"sender": {}}]}]}
    assert await webhook.delivered(payload) == []


# ------------------------------------------------------------------------------------------
# Background processing


async def test_meta_gets_its_200_before_rasa_has_finished(webhook: Webhook) -> None:
    release = asyncio.Event()

    async def slow(message: UserMessage) -> None:
        await release.wait()

    webhook.collector.reply = slow
    started = time.monotonic()
    answer = await asyncio.wait_for(webhook.post(fixture("text")), timeout=5)
    assert answer.status == 200
    assert time.monotonic() - started < 2
    assert len(webhook.channel._tasks) == 1  # the reference that keeps the task alive
    release.set()
    await webhook.channel.drain()
    assert webhook.channel._tasks == set()


async def test_a_failing_turn_is_logged_and_the_next_message_still_handled(
    webhook: Webhook, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(message: UserMessage) -> None:
        if message.text.startswith("Wo"):
            raise RuntimeError("tracker store down")

    webhook.collector.reply = explode
    payload = fixture("text")
    second = copy.deepcopy(payload["entry"][0]["messaging"][0])
    second["message"].update(mid="m_second", text="Hallo?")
    payload["entry"][0]["messaging"].append(second)
    with caplog.at_level(logging.ERROR, logger="borderless.channels.messenger"):
        messages = await webhook.delivered(payload)
    assert [m.text for m in messages] == ["Wo ist meine Bestellung BL-10001?", "Hallo?"]
    assert "tracker store down" in caplog.text


async def test_one_customer_in_order_locale_looked_up_once(
    webhook: Webhook, graph: GraphStub
) -> None:
    """Later webhooks are acknowledged while earlier ones still wait on the profile look-up
    and on Rasa; they must still reach Rasa in the order Meta sent them."""
    graph.profile_delay = 0.2

    async def slow(message: UserMessage) -> None:
        await asyncio.sleep(0.02)

    webhook.collector.reply = slow
    for number in range(5):
        payload = fixture("text")
        payload["entry"][0]["messaging"][0]["message"].update(mid=f"m_{number}", text=str(number))
        assert (await webhook.post(payload)).status == 200
    assert len(webhook.channel._tasks) == 5  # all acknowledged, none finished yet
    await webhook.channel.drain()
    assert [m.text for m in webhook.collector.messages] == ["0", "1", "2", "3", "4"]
    assert len(graph.profile_calls) == 1
    assert webhook.channel._senders == {}  # per-customer locks do not pile up


@pytest.mark.parametrize("failure", ["error", "timeout", "no-locale"])
async def test_without_a_profile_the_locale_is_just_absent(
    webhook: Webhook, graph: GraphStub, failure: str
) -> None:
    if failure == "error":
        graph.profile_status = 400
    elif failure == "timeout":
        graph.profile_delay = 3.0  # the channel gives up after 1.5 s
    else:
        graph.locales = {}
    [message] = await webhook.delivered(fixture("text"))
    assert message.metadata is not None
    assert "locale" not in message.metadata
    assert message.metadata["psid"] == PSID


async def test_the_bot_answers_through_the_send_api(webhook: Webhook, graph: GraphStub) -> None:
    async def answer(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": "Wobei kann ich helfen?",
                "buttons": [
                    {"title": "Bestellstatus", "payload": "/check_order_status"},
                    {"title": "Versandkosten und Lieferzeiten", "payload": "/ask_shipping"},
                ],
            },
        )

    webhook.collector.reply = answer
    await webhook.delivered(fixture("text"))
    [sent] = graph.sends
    assert sent == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Wobei kann ich helfen?",
            "quick_replies": [
                {
                    "content_type": "text",
                    "title": "Bestellstatus",
                    "payload": "/check_order_status",
                },
                {
                    "content_type": "text",
                    "title": "Versandkosten und L…",
                    "payload": "/ask_shipping",
                },
            ],
        },
    }
    assert graph.send_queries[0]["access_token"] == PAGE_TOKEN
    assert "appsecret_proof" in graph.send_queries[0]


# ------------------------------------------------------------------------------------------
# Output channel on its own


@pytest.fixture
async def output(graph: GraphStub) -> AsyncIterator[MessengerOutput]:
    channel = MessengerInput(
        VERIFY, SECRET, PAGE_TOKEN, graph_url=graph.url, api_version=API_VERSION
    )
    out = channel.get_output_channel()
    assert isinstance(out, MessengerOutput)
    yield out
    await channel.graph.close()


async def test_buttons_become_at_most_13_quick_replies_with_short_titles(
    output: MessengerOutput, graph: GraphStub
) -> None:
    buttons = [
        {"title": f"Option number {n} with a long title", "payload": f'/choose{{"n":{n}}}'}
        for n in range(16)
    ]
    buttons.insert(0, {"title": "Too big", "payload": "/x" + "y" * 1000})
    buttons.append({"title": "Track online", "url": "https://track.example/BL-10001"})
    await output.send_text_with_buttons(PSID, "Choose one", buttons)

    [sent] = graph.sends
    replies = sent["message"]["quick_replies"]
    assert len(replies) == 13
    assert all(reply["content_type"] == "text" for reply in replies)
    assert all(len(reply["title"]) <= 20 for reply in replies)
    assert all(len(reply["payload"]) <= 1000 for reply in replies)
    assert replies[0]["payload"] == '/choose{"n":0}'  # the oversized payload was dropped, not cut
    assert sent["message"]["text"] == "Choose one\nTrack online: https://track.example/BL-10001"


async def test_long_text_is_split_under_2000_characters(
    output: MessengerOutput, graph: GraphStub
) -> None:
    paragraphs = [f"Paragraph {n}: " + "lorem ipsum " * 60 for n in range(6)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 4000
    await output.send_quick_replies(PSID, text, [{"title": "OK", "payload": "/affirm"}])

    parts = [sent["message"]["text"] for sent in graph.sends]
    assert len(parts) >= 3
    assert all(0 < len(part) <= 2000 for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    # Quick replies travel with the last part only, where the customer will tap them.
    assert [("quick_replies" in sent["message"]) for sent in graph.sends][-1] is True
    assert sum("quick_replies" in sent["message"] for sent in graph.sends) == 1


async def test_image_custom_json_and_elements(output: MessengerOutput, graph: GraphStub) -> None:
    await output.send_image_url(PSID, "https://cdn.example/parcel.png")
    await output.send_custom_json(PSID, {"text": "custom message object"})
    await output.send_custom_json(PSID, {"sender_action": "typing_on"})
    await output.send_elements(
        PSID, [{"title": "BL-10001", "buttons": [{"title": "Track", "payload": "/track"}]}]
    )
    image, custom, action, cards = graph.sends
    assert image["message"] == {
        "attachment": {
            "type": "image",
            "payload": {"url": "https://cdn.example/parcel.png", "is_reusable": True},
        }
    }
    assert custom == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "custom message object"},
    }
    assert action == {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    template = cards["message"]["attachment"]["payload"]
    assert template["template_type"] == "generic"
    assert template["elements"][0]["buttons"][0]["type"] == "postback"


async def test_a_refused_bot_reply_is_logged_not_raised(
    output: MessengerOutput, graph: GraphStub, caplog: pytest.LogCaptureFixture
) -> None:
    graph.send_error = {
        "message": "(#10) outside of allowed window",
        "code": 10,
        "fbtrace_id": "Ab",
    }
    with caplog.at_level(logging.ERROR, logger="borderless.channels.messenger"):
        await output.send_text_message(PSID, "Hello")
    assert "outside of allowed window" in caplog.text
    assert PAGE_TOKEN not in caplog.text


NOW = datetime(2025, 6, 3, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("ago", "expected"),
    [
        (timedelta(hours=23, minutes=59), {"messaging_type": "RESPONSE"}),
        (timedelta(hours=24), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
        (timedelta(days=6, hours=23), {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}),
    ],
)
async def test_agent_replies_use_the_human_agent_tag_after_24_hours(
    output: MessengerOutput, graph: GraphStub, ago: timedelta, expected: dict[str, str]
) -> None:
    ids = await output.send_agent_text(PSID, "Anna here, sorry for the wait.", NOW - ago, now=NOW)
    assert ids == ["m_sent_1"]
    [sent] = graph.sends
    assert {k: v for k, v in sent.items() if k in ("messaging_type", "tag")} == expected
    assert sent["message"] == {"text": "Anna here, sorry for the wait."}


async def test_agent_reply_accepts_tracker_epoch_seconds(
    output: MessengerOutput, graph: GraphStub
) -> None:
    await output.send_agent_text(PSID, "Hi", time.time() - 2 * 24 * 3600)
    assert graph.sends[0]["tag"] == "HUMAN_AGENT"


async def test_agent_reply_after_7_days_is_refused_without_sending(
    output: MessengerOutput, graph: GraphStub
) -> None:
    with pytest.raises(OutsideMessagingWindow):
        await output.send_agent_text(PSID, "Hi", NOW - timedelta(days=7), now=NOW)
    assert graph.sends == []


async def test_agent_reply_refused_by_meta_raises(
    output: MessengerOutput, graph: GraphStub
) -> None:
    graph.send_error = {"message": "(#551) This person isn't available right now.", "code": 551}
    with pytest.raises(MessengerSendError) as raised:
        await output.send_agent_text(PSID, "Hi", NOW, now=NOW)
    assert raised.value.code == 551
    assert raised.value.status == 400


async def test_unreachable_graph_raises_for_agents(graph: GraphStub) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
    channel = MessengerInput(VERIFY, SECRET, PAGE_TOKEN, graph_url=dead)
    out = channel.get_output_channel()
    assert isinstance(out, MessengerOutput)
    with pytest.raises(MessengerSendError, match="unreachable"):
        await out.send_agent_text(PSID, "Hi", NOW, now=NOW)
    await channel.graph.close()


# ------------------------------------------------------------------------------------------
# Credentials and helpers


def test_rasa_builds_the_channel_from_credentials(graph: GraphStub) -> None:
    # How rasa.core.run resolves a credentials.yml key that is not a built-in channel.
    from rasa.shared.utils.common import class_from_module_path

    channel_class = class_from_module_path("borderless.channels.messenger.MessengerInput")
    channel = channel_class.from_credentials(
        {
            "verify": VERIFY,
            "secret": SECRET,
            "page-access-token": PAGE_TOKEN,
            "graph_url": "http://127.0.0.1:9/",
            "api_version": "v20.0",
        },
    )
    assert isinstance(channel, MessengerInput)
    assert channel.url_prefix() == "messenger"
    assert channel.graph.base_url == "http://127.0.0.1:9/v20.0"


@pytest.mark.parametrize("missing", ["verify", "secret", "page-access-token"])
def test_incomplete_credentials_are_refused(missing: str) -> None:
    credentials = {"verify": VERIFY, "secret": SECRET, "page-access-token": PAGE_TOKEN}
    credentials[missing] = ""
    with pytest.raises(MessengerError, match=missing):
        MessengerInput.from_credentials(credentials)


def test_verify_signature() -> None:
    body = b'{"object":"page"}'
    assert verify_signature(SECRET, body, sign(body))
    assert verify_signature(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))
    assert not verify_signature(SECRET, body, sign(body, "other"))
    assert not verify_signature(SECRET, body, None)


def test_split_text_prefers_natural_breaks() -> None:
    assert split_text("  short  ") == ["short"]
    assert split_text("") == []
    assert split_text("a" * 4500) == ["a" * 2000, "a" * 2000, "a" * 500]
    words = split_text(("word " * 500).strip())
    assert all(len(part) <= 2000 and not part.endswith(" ") for part in words)
    assert all(part.endswith("word") for part in words)
