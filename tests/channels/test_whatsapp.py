"""WhatsApp Cloud API channel: webhook security, parsing, fast acknowledgement, replies.

Webhook bodies are the documented shapes in ``fixtures/whatsapp_*.json`` (Meta's webhook
reference, see external-apis.md §1d), signed here with the test app secret. The channel runs in
a real Sanic server; a local HTTP server plays the Graph API and records what we send.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException

from borderless.channels._common import country_hint, split_text
from borderless.channels.whatsapp import (
    PayloadError,
    WhatsAppCloudConfig,
    WhatsAppCloudInput,
    WhatsAppCloudOutput,
    parse_webhook,
    verify_signature,
)

if TYPE_CHECKING:
    from conftest import Eventually, ProviderApi, RunningChannel, ServeChannel

FIXTURES = Path(__file__).parent / "fixtures"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ACCESS_TOKEN = "test-access-token"
PHONE_NUMBER_ID = "106540352242922"
WEBHOOK = "/webhooks/whatsapp/webhook"
CUSTOMER = "16505551234"


@dataclass
class Clock:
    now: float = 1_749_416_400.0

    def __call__(self) -> float:
        return self.now


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def credentials(graph_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "verify_token": VERIFY_TOKEN,
        "app_secret": APP_SECRET,
        "access_token": ACCESS_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
        "graph_url": graph_url,
        "template_name": "order_update",
        "template_language": "en_US",
        **extra,
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


async def post(
    running: RunningChannel, body: bytes, signature: str | None = "sign", **headers: str
) -> tuple[int, Any]:
    if signature == "sign":
        signature = sign(body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    headers.setdefault("Content-Type", "application/json")
    async with running.session.post(running.base_url + WEBHOOK, data=body, headers=headers) as r:
        text = await r.text()
        try:
            return r.status, json.loads(text)
        except ValueError:
            return r.status, text


@pytest.fixture
async def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
async def channel(provider_api: ProviderApi, clock: Clock) -> AsyncIterator[WhatsAppCloudInput]:
    config = WhatsAppCloudConfig.from_credentials(credentials(provider_api.base_url))
    channel = WhatsAppCloudInput(config, clock=clock)
    yield channel
    await channel.aclose()


@pytest.fixture
async def running(
    channel: WhatsAppCloudInput, serve_channel: ServeChannel
) -> AsyncIterator[RunningChannel]:
    async with serve_channel(channel) as running:
        yield running


# -- handshake ----------------------------------------------------------------------------------


async def test_handshake_echoes_the_challenge_for_our_token(running: RunningChannel) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158",
    }
    async with running.session.get(running.base_url + WEBHOOK, params=query) as response:
        assert response.status == 200
        assert await response.text() == "1158"
        assert response.content_type == "text/plain"


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "ünïcödé", "hub.challenge": "1"},
    ],
)
async def test_handshake_refuses_anyone_else(
    running: RunningChannel, query: dict[str, str]
) -> None:
    async with running.session.get(running.base_url + WEBHOOK, params=query) as response:
        assert response.status == 403
        assert "1" not in await response.text()


async def test_health_route(running: RunningChannel) -> None:
    async with running.session.get(running.base_url + "/webhooks/whatsapp/") as response:
        assert response.status == 200 and (await response.json()) == {"status": "ok"}


# -- signature ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        "sha256=",
        "sha256=" + "0" * 64,
        sign(b"another body"),
        sign(encode(load_fixture("whatsapp_inbound_text.json")), secret="other-secret"),
        "sha1=" + hmac.new(APP_SECRET.encode(), b"x", hashlib.sha1).hexdigest(),
        "sha256=ü" + "0" * 63,  # non-ASCII must not make compare_digest raise
    ],
)
async def test_unsigned_or_forged_posts_are_refused_and_not_processed(
    running: RunningChannel, signature: str | None
) -> None:
    body = encode(load_fixture("whatsapp_inbound_text.json"))
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    async with running.session.post(
        running.base_url + WEBHOOK, data=body, headers=headers
    ) as response:
        assert response.status == 403
        assert (await response.json())["error"] == "invalid signature"
    await asyncio.sleep(0.05)
    assert running.agent.started == []


def test_signature_is_checked_over_the_raw_bytes() -> None:
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    assert verify_signature(body, sign(body), APP_SECRET)
    assert verify_signature(body, sign(body).upper().replace("SHA256=", "sha256="), APP_SECRET)
    reserialized = json.dumps(json.loads(body), separators=(",", ":")).encode()
    assert not verify_signature(reserialized, sign(body), APP_SECRET)


# -- inbound messages ---------------------------------------------------------------------------


async def test_text_message_reaches_rasa_with_metadata(running: RunningChannel) -> None:
    payload = load_fixture("whatsapp_inbound_text.json")
    status, answer = await post(running, encode(payload))
    assert status == 200 and answer["messages"] == 1
    [message] = await running.agent.wait_for(1)
    assert message.text == "Does it come in another color?"
    assert message.sender_id == CUSTOMER
    assert message.input_channel == "whatsapp"
    wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
    assert message.message_id == wamid
    assert isinstance(message.output_channel, WhatsAppCloudOutput)
    assert message.metadata == {
        "channel": "whatsapp",
        "phone": "+16505551234",
        "wa_id": CUSTOMER,
        "wamid": wamid,
        "profile_name": "Sheena Nelson",
        "country_hint": "US",
        "timestamp": 1749416383,
        "business_phone_number_id": PHONE_NUMBER_ID,
    }
    assert "language" not in message.metadata  # a phone number does not say which language


@pytest.mark.parametrize(
    ("fixture", "text"),
    [
        ("whatsapp_interactive_button_reply.json", "/affirm"),
        ("whatsapp_interactive_list_reply.json", '/choose_country{"country":"FR"}'),
        ("whatsapp_template_button.json", "/continue_conversation"),
    ],
)
async def test_taps_arrive_as_the_payload(running: RunningChannel, fixture: str, text: str) -> None:
    status, _ = await post(running, encode(load_fixture(fixture)))
    assert status == 200
    [message] = await running.agent.wait_for(1)
    assert message.text == text


async def test_reply_metadata_keeps_the_title_and_context(running: RunningChannel) -> None:
    await post(running, encode(load_fixture("whatsapp_interactive_button_reply.json")))
    [message] = await running.agent.wait_for(1)
    assert message.metadata["reply"] == {"id": "/affirm", "title": "Yes, please"}
    assert message.metadata["in_reply_to"].startswith("wamid.")
    assert message.metadata["country_hint"] == "DE"


async def test_media_and_location_arrive_empty_with_details(running: RunningChannel) -> None:
    await post(running, encode(load_fixture("whatsapp_image.json")))
    await post(running, encode(load_fixture("whatsapp_location.json")))
    image, location = await running.agent.wait_for(2)
    assert image.text == "" and image.metadata["unsupported_type"] == "image"
    assert image.metadata["media"]["mime_type"] == "image/jpeg"
    assert image.metadata["caption"] == "Il pacco è arrivato rotto"
    assert image.metadata["country_hint"] == "IT"
    assert location.text == "" and location.metadata["unsupported_type"] == "location"
    assert location.metadata["location"]["latitude"] == -23.5505
    assert location.metadata["country_hint"] == "BR"


async def test_unknown_message_types_are_passed_on_not_refused(running: RunningChannel) -> None:
    payload = load_fixture("whatsapp_inbound_text.json")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message.pop("text")
    message.update(type="hologram", hologram={"id": "1"})
    status, _ = await post(running, encode(payload))
    assert status == 200
    [received] = await running.agent.wait_for(1)
    assert received.text == "" and received.metadata["unsupported_type"] == "hologram"


async def test_statuses_and_reactions_are_acknowledged_not_processed(
    running: RunningChannel,
) -> None:
    for fixture in ("whatsapp_statuses.json", "whatsapp_reaction.json"):
        status, answer = await post(running, encode(load_fixture(fixture)))
        assert status == 200 and answer["messages"] == 0
    other_field = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {"x": 1}}]}],
    }
    assert (await post(running, encode(other_field)))[0] == 200
    await asyncio.sleep(0.05)
    assert running.agent.started == []


async def test_a_redelivered_wamid_is_processed_once(running: RunningChannel) -> None:
    payload = load_fixture("whatsapp_inbound_text.json")
    body = encode(payload)
    first = await post(running, body)
    second = await post(running, body)
    assert first == (200, {"status": "accepted", "messages": 1, "duplicates": 0})
    assert second == (200, {"status": "accepted", "messages": 0, "duplicates": 1})
    doubled = copy.deepcopy(payload)
    value = doubled["entry"][0]["changes"][0]["value"]
    value["messages"].append(dict(value["messages"][0], id="wamid.second"))
    value["messages"].append(dict(value["messages"][0], id="wamid.second"))
    assert (await post(running, encode(doubled)))[1]["messages"] == 1
    await running.agent.wait_for(2)
    await asyncio.sleep(0.05)
    assert [m.message_id for m in running.agent.started][1:] == ["wamid.second"]


# -- malformed input never becomes a 500 ---------------------------------------------------------


def _text_payload() -> dict[str, Any]:
    """The documented text message, sent just now (so its 24-hour window is open)."""
    payload = load_fixture("whatsapp_inbound_text.json")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(time.time()))
    return payload


def _broken(path: list[Any], value: Any) -> dict[str, Any]:
    payload = _text_payload()
    target: Any = payload
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


_DELETE = object()
MESSAGE = ["entry", 0, "changes", 0, "value", "messages", 0]


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        ([1, 2, 3], "body must be an object"),
        ({"object": "page", "entry": []}, "'object' must be"),
        ({"object": "whatsapp_business_account"}, "entry must be a list"),
        ({"object": "whatsapp_business_account", "entry": {"id": 1}}, "entry must be a list"),
        ({"object": "whatsapp_business_account", "entry": [7]}, "entry[0] must be an object"),
        (_broken(["entry", 0, "changes"], "x"), "changes must be a list"),
        (_broken(["entry", 0, "changes", 0, "value"], None), "value must be an object"),
        (_broken(["entry", 0, "changes", 0, "value", "messages"], {}), "messages must be a list"),
        (_broken([*MESSAGE, "from"], _DELETE), "from must be a non-empty string"),
        (_broken([*MESSAGE, "id"], 12), "id must be a non-empty string"),
        (_broken([*MESSAGE, "type"], None), "type must be a non-empty string"),
        (_broken([*MESSAGE, "text"], "hi"), "text must be an object"),
        (_broken([*MESSAGE, "text", "body"], ["hi"]), "text.body must be a string"),
        (
            _broken([*MESSAGE], {"from": "1", "id": "w", "type": "interactive", "interactive": 1}),
            "interactive must be an object",
        ),
        (
            _broken(
                [*MESSAGE],
                {
                    "from": "1",
                    "id": "w",
                    "type": "interactive",
                    "interactive": {"type": "button_reply", "button_reply": {"title": "x"}},
                },
            ),
            "button_reply.id must be a non-empty string",
        ),
        (
            _broken([*MESSAGE], {"from": "1", "id": "w", "type": "button", "button": {}}),
            "button needs a payload or text",
        ),
    ],
)
async def test_malformed_payloads_get_a_400_that_says_why(
    running: RunningChannel, payload: Any, detail: str
) -> None:
    status, answer = await post(running, encode(payload))
    assert status == 400, answer
    assert answer["error"] == "unexpected payload"
    assert detail in answer["detail"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"\xff\xfe\x00garbage", b"", b"[" * 100_000 + b"]" * 100_000],
)
async def test_invalid_json_gets_a_400(running: RunningChannel, body: bytes) -> None:
    status, answer = await post(running, body)
    assert status == 400 and answer["error"] == "invalid JSON"


async def test_oversize_bodies_get_413_before_the_signature_is_checked(
    running: RunningChannel,
) -> None:
    body = b"x" * (256 * 1024 + 1)
    status, answer = await post(running, body)
    assert status == 413 and answer["error"] == "payload too large"

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"y" * 8192

    async with running.session.post(
        running.base_url + WEBHOOK, data=chunked(), headers={"X-Hub-Signature-256": "sha256=0"}
    ) as response:
        assert response.status == 413


async def test_the_server_survives_all_of_it(running: RunningChannel) -> None:
    await post(running, b"{not json")
    await post(running, encode({"object": "page"}))
    await post(running, b"x" * 300_000)
    await post(running, encode(_text_payload()), signature="sha256=bad")
    status, _ = await post(running, encode(_text_payload()))
    assert status == 200
    assert len(await running.agent.wait_for(1)) == 1


def test_parse_webhook_never_raises_anything_but_payload_error() -> None:
    base = _text_payload()
    samples: list[Any] = [None, 0, "x", [], {}, {"object": None}]
    for path_length in range(1, len(MESSAGE) + 1):
        for junk in (None, 0, "", [], {}, [None], {"x": None}, True):
            samples.append(_broken(MESSAGE[:path_length], junk))
    for sample in samples:
        with contextlib.suppress(PayloadError):
            parse_webhook(sample)
    assert parse_webhook(base)[0].text == "Does it come in another color?"


# -- acknowledgement and background processing ---------------------------------------------------


async def test_the_webhook_answers_before_a_slow_bot_turn(running: RunningChannel) -> None:
    async def slow(_: UserMessage) -> None:
        await asyncio.sleep(1.0)

    running.agent.responder = slow
    started = time.monotonic()
    status, _ = await post(running, encode(_text_payload()))
    assert status == 200
    assert time.monotonic() - started < 0.5
    assert running.agent.finished == []
    await running.agent.wait_for(1, timeout=3)


async def test_one_customers_messages_are_handled_in_order(running: RunningChannel) -> None:
    order: list[str] = []

    async def respond(message: UserMessage) -> None:
        if message.text == "first":
            await asyncio.sleep(0.3)
        order.append(message.text or "")

    running.agent.responder = respond
    for number, text in enumerate(("first", "second", "third")):
        payload = _text_payload()
        message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
        message.update(id=f"wamid.order{number}", text={"body": text})
        await post(running, encode(payload))
    await running.agent.wait_for(3)
    assert order == ["first", "second", "third"]


async def test_a_failing_turn_is_logged_and_the_next_one_still_runs(
    running: RunningChannel, caplog: pytest.LogCaptureFixture, eventually: Eventually
) -> None:
    async def explode(message: UserMessage) -> None:
        if message.message_id == "wamid.boom":
            raise RuntimeError("tracker store down")

    running.agent.responder = explode
    payload = _text_payload()
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.boom"
    with caplog.at_level(logging.ERROR):
        assert (await post(running, encode(payload)))[0] == 200
        await eventually(lambda: "wamid.boom failed" in caplog.text)
    assert "tracker store down" in caplog.text
    assert (await post(running, encode(_text_payload())))[0] == 200
    await running.agent.wait_for(1)


async def test_a_full_queue_answers_503_so_meta_retries(
    provider_api: ProviderApi, clock: Clock, serve_channel: ServeChannel, eventually: Eventually
) -> None:
    config = WhatsAppCloudConfig.from_credentials(credentials(provider_api.base_url, max_pending=1))
    channel = WhatsAppCloudInput(config, clock=clock)
    release = asyncio.Event()

    async def blocked(_: UserMessage) -> None:
        await release.wait()

    async with serve_channel(channel) as running:
        running.agent.responder = blocked
        assert (await post(running, encode(_text_payload())))[0] == 200
        second = load_fixture("whatsapp_interactive_button_reply.json")
        status, answer = await post(running, encode(second))
        assert status == 503 and answer["error"] == "busy"
        release.set()
        await running.agent.wait_for(1)
        await eventually(lambda: channel.dispatcher.pending == 0)
        assert (await post(running, encode(second)))[0] == 200  # not marked as seen
        await running.agent.wait_for(2)


async def test_shutdown_waits_for_turns_already_accepted(
    provider_api: ProviderApi, clock: Clock, serve_channel: ServeChannel
) -> None:
    config = WhatsAppCloudConfig.from_credentials(credentials(provider_api.base_url))
    channel = WhatsAppCloudInput(config, clock=clock)

    async def slow(_: UserMessage) -> None:
        await asyncio.sleep(0.3)

    async with serve_channel(channel) as running:
        running.agent.responder = slow
        await post(running, encode(_text_payload()))
        agent = running.agent
    assert len(agent.finished) == 1  # before_server_stop drained it


# -- replies through the Graph API ---------------------------------------------------------------


def _messages_path() -> str:
    return f"/v21.0/{PHONE_NUMBER_ID}/messages"


async def test_a_bot_reply_goes_to_the_graph_api(
    running: RunningChannel, provider_api: ProviderApi
) -> None:
    async def reply(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id, {"text": "Yes: blue and green."}
        )

    running.agent.responder = reply
    await post(running, encode(_text_payload()))
    [request] = await provider_api.wait_for(1)
    assert request.method == "POST" and request.path == _messages_path()
    assert request.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert request.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "text",
        "text": {"body": "Yes: blue and green."},
    }


async def _open_window(channel: WhatsAppCloudInput, recipient: str = CUSTOMER) -> None:
    await channel.window.record_inbound(recipient)


async def test_up_to_three_buttons_are_reply_buttons(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    output = channel.get_output_channel()
    buttons = [
        {"title": "Yes, please send it again", "payload": "/affirm"},
        {"title": "No", "payload": "/deny"},
        {"title": "Talk to a person", "payload": "/handoff"},
    ]
    await output.send_response(CUSTOMER, {"text": "Resend the tracking link?", "buttons": buttons})
    [request] = provider_api.requests
    interactive = request.json["interactive"]
    assert request.json["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"] == {"text": "Resend the tracking link?"}
    sent = [b["reply"] for b in interactive["action"]["buttons"]]
    assert [b["id"] for b in sent] == ["/affirm", "/deny", "/handoff"]
    assert sent[0]["title"] == "Yes, please send it…" and len(sent[0]["title"]) == 20
    assert all(b["type"] == "reply" for b in interactive["action"]["buttons"])


async def test_more_than_three_buttons_become_a_list(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    output = channel.get_output_channel()
    countries = ["Germany", "France", "United Kingdom of Great Britain", "Spain", "Italy"]
    buttons = [{"title": c, "payload": f'/inform{{"country":"{c[:2]}"}}'} for c in countries]
    await output.send_text_with_buttons(
        CUSTOMER, "Where should it go?", buttons, list_button="Länder"
    )
    interactive = provider_api.requests[0].json["interactive"]
    assert interactive["type"] == "list"
    assert interactive["action"]["button"] == "Länder"
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [b["payload"] for b in buttons]
    assert rows[2]["title"] == "United Kingdom of Great…" and len(rows[2]["title"]) == 24
    assert rows[2]["description"] == "United Kingdom of Great Britain"
    assert "description" not in rows[0]

    many = [{"title": f"Option {n}", "payload": f'/pick{{"n":{n}}}'} for n in range(14)]
    await output.send_text_with_buttons(CUSTOMER, "Pick one", many)
    action = provider_api.requests[1].json["interactive"]["action"]
    assert action["button"] == "Menu"
    assert len(action["sections"][0]["rows"]) == 10


async def test_a_payload_too_long_for_an_id_round_trips_through_an_alias(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    payload = '/inform{"note":"' + "x" * 300 + '"}'
    await channel.get_output_channel().send_text_with_buttons(
        CUSTOMER, "Confirm?", [{"title": "Confirm", "payload": payload}]
    )
    sent_id = provider_api.requests[0].json["interactive"]["action"]["buttons"][0]["reply"]["id"]
    assert len(sent_id) <= 256 and sent_id != payload
    tap = load_fixture("whatsapp_interactive_button_reply.json")
    tap["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["button_reply"] = {
        "id": sent_id,
        "title": "Confirm",
    }
    assert parse_webhook(tap, channel.aliases)[0].text == payload
    unknown = copy.deepcopy(tap)
    reply = unknown["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]
    reply["button_reply"]["id"] = "bl:forgotten"
    assert parse_webhook(unknown, channel.aliases)[0].text == "Confirm"


async def test_long_text_is_split_below_4096_at_paragraphs(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    sentences = "Lorem ipsum dolor sit amet. " * 50
    paragraphs = [f"Paragraph {n}. {sentences.strip()}" for n in range(5)]
    text = "\n\n".join(paragraphs)  # 5 x ~1,400 characters
    await channel.get_output_channel().send_text_message(CUSTOMER, text)
    bodies = [r.json["text"]["body"] for r in provider_api.requests]
    assert len(bodies) == 3 and all(len(b) <= 4096 for b in bodies)
    assert "\n\n".join(bodies) == text  # cut between paragraphs, nothing lost


async def test_a_button_text_above_1024_goes_first_as_text(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    text = "word " * 400
    await channel.get_output_channel().send_text_with_buttons(
        CUSTOMER, text, [{"title": "OK", "payload": "/affirm"}]
    )
    kinds = [r.json["type"] for r in provider_api.requests]
    assert kinds[-1] == "interactive" and set(kinds[:-1]) == {"text"}
    assert len(provider_api.requests[-1].json["interactive"]["body"]["text"]) <= 1024


async def test_images_documents_and_custom_json(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    output = channel.get_output_channel()
    await output.send_response(CUSTOMER, {"image": "https://cdn.example/p.jpg"})
    await output.send_attachment(CUSTOMER, "https://cdn.example/invoice.pdf")
    await output.send_custom_json(
        CUSTOMER, {"type": "location", "location": {"latitude": 1, "longitude": 2}}
    )
    image, document, custom = (r.json for r in provider_api.requests)
    assert image["type"] == "image" and image["image"] == {"link": "https://cdn.example/p.jpg"}
    assert document["document"] == {"link": "https://cdn.example/invoice.pdf"}
    assert custom["location"] == {"latitude": 1, "longitude": 2} and custom["to"] == CUSTOMER


# -- the 24-hour window --------------------------------------------------------------------------


async def test_outside_the_window_the_template_is_sent_once_instead(
    channel: WhatsAppCloudInput, provider_api: ProviderApi, clock: Clock
) -> None:
    output = channel.get_output_channel()
    await channel.window.record_inbound(CUSTOMER, at=clock.now)
    assert await output.in_service_window(CUSTOMER)
    clock.now += 23 * 3600
    await output.send_text_message(CUSTOMER, "still inside")
    clock.now += 2 * 3600  # 25 h after the customer's message
    assert not await output.in_service_window(CUSTOMER)
    assert not await channel.in_service_window("+" + CUSTOMER)
    await output.send_text_message(CUSTOMER, "Your parcel was delivered.")
    await output.send_text_message(CUSTOMER, "Anything else?")
    bodies = [r.json for r in provider_api.requests]
    assert bodies[0]["type"] == "text"
    assert bodies[1] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": "order_update", "language": {"code": "en_US"}},
    }
    assert len(bodies) == 2  # the second free-form message is withheld, not a second template
    await channel.window.record_inbound(CUSTOMER, at=clock.now)  # the customer answers
    await output.send_text_message(CUSTOMER, "Welcome back")
    assert provider_api.requests[-1].json["text"] == {"body": "Welcome back"}


async def test_a_custom_template_goes_out_even_outside_the_window(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    template = {"type": "template", "template": {"name": "shipped", "language": {"code": "de"}}}
    await channel.get_output_channel().send_custom_json(CUSTOMER, template)
    assert provider_api.requests[0].json["template"]["name"] == "shipped"


async def test_an_inbound_message_opens_the_window_for_the_reply(
    running: RunningChannel, channel: WhatsAppCloudInput, clock: Clock
) -> None:
    payload = _text_payload()
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["timestamp"] = str(int(clock.now))
    assert not await channel.in_service_window(CUSTOMER)
    await post(running, encode(payload))
    await running.agent.wait_for(1)
    assert await channel.in_service_window(CUSTOMER)


async def test_meta_saying_the_window_is_closed_wins(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    provider_api.answer(
        400,
        {
            "error": {
                "message": "Re-engagement message",
                "type": "OAuthException",
                "code": 131047,
                "fbtrace_id": "A1b2",
            }
        },
    )
    await channel.get_output_channel().send_text_message(CUSTOMER, "Your refund is on its way.")
    first, second = provider_api.requests
    assert first.json["type"] == "text" and second.json["type"] == "template"
    assert not await channel.in_service_window(CUSTOMER)


async def test_without_a_template_nothing_is_sent_outside_the_window(
    provider_api: ProviderApi, caplog: pytest.LogCaptureFixture
) -> None:
    settings = credentials(provider_api.base_url)
    del settings["template_name"]
    channel = WhatsAppCloudInput(WhatsAppCloudConfig.from_credentials(settings))
    with caplog.at_level(logging.WARNING):
        await channel.get_output_channel().send_text_message(CUSTOMER, "Hello?")
    assert provider_api.requests == []
    assert "no template_name is configured" in caplog.text
    assert CUSTOMER not in caplog.text  # phone numbers are masked in logs
    await channel.aclose()


async def test_throttling_is_retried_and_errors_do_not_raise(
    channel: WhatsAppCloudInput, provider_api: ProviderApi
) -> None:
    await _open_window(channel)
    provider_api.answer(429, {"error": {"code": 130429}}, {"Retry-After": "0"})
    provider_api.answer(503, {"error": {"code": 2}}, {"Retry-After": "0"})
    await channel.get_output_channel().send_text_message(CUSTOMER, "third time lucky")
    assert len(provider_api.requests) == 3
    provider_api.answer(500, {"error": {"code": 1, "message": "unknown"}})
    await channel.get_output_channel().send_text_message(CUSTOMER, "not retried")
    assert len(provider_api.requests) == 4  # a 500 may have been sent: no retry
    await channel.aclose()


# -- configuration and helpers ------------------------------------------------------------------


def test_from_credentials_requires_the_secrets() -> None:
    with pytest.raises(RasaException, match="app_secret, access_token"):
        WhatsAppCloudInput.from_credentials({"verify_token": "x", "phone_number_id": "1"})
    with pytest.raises(RasaException):
        WhatsAppCloudInput.from_credentials(None)
    with pytest.raises(RasaException):
        WhatsAppCloudInput.from_credentials(dict(credentials("http://x"), app_secret=""))


def test_from_credentials_normalizes_yaml_values() -> None:
    channel = WhatsAppCloudInput.from_credentials(
        {
            "verify_token": "v",
            "app_secret": "s",
            "access_token": "a",
            "phone_number_id": 106540352242922,
            "api_version": 21.0,
        }
    )
    assert isinstance(channel, WhatsAppCloudInput)
    assert channel.config.messages_url == (
        "https://graph.facebook.com/v21.0/106540352242922/messages"
    )
    assert channel.name() == "whatsapp" and channel.config.template_name is None


@pytest.mark.parametrize(
    ("phone", "country"),
    [
        ("16505551234", "US"),
        ("+14165551234", "CA"),
        ("18765551234", "JM"),
        ("4915112345678", "DE"),
        ("+41791234567", "CH"),
        ("whatsapp:+447700900123", "GB"),
        ("351912345678", "PT"),
        ("35312345678", "IE"),
        ("966501234567", "SA"),
        ("971501234567", "AE"),
        ("8613812345678", "CN"),
        ("819012345678", "JP"),
        ("77011234567", "KZ"),
        ("79161234567", "RU"),
        ("5215512345678", "MX"),
        ("61412345678", "AU"),
        ("4366412345678", "AT"),
        ("999123", None),
        ("not-a-number", None),
    ],
)
def test_country_hint(phone: str, country: str | None) -> None:
    assert country_hint(phone) == country


def test_split_text_prefers_paragraphs_and_never_exceeds_the_limit() -> None:
    assert split_text("short", 10) == ["short"]
    assert split_text("aaaa bbbb cccc", 10) == ["aaaa bbbb", "cccc"]
    assert split_text("para one.\n\npara two is longer", 20) == ["para one.", "para two is longer"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("   ", 10) == []


async def test_an_unreachable_or_hanging_graph_api_is_logged_not_raised(
    free_port: int, hanging_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    for graph_url in (f"http://127.0.0.1:{free_port}", hanging_server):
        channel = WhatsAppCloudInput(WhatsAppCloudConfig.from_credentials(credentials(graph_url)))
        channel.sender.backoff, channel.sender.timeout = 0.01, 0.3
        await _open_window(channel)
        with caplog.at_level(logging.WARNING):
            await channel.get_output_channel().send_text_message(CUSTOMER, "Hello")
        await channel.aclose()
    assert caplog.text.count("cannot connect") == 3  # refused connections are retried
    assert "not retrying" in caplog.text  # a request that may have arrived is not
    assert caplog.text.count("text message to 1650*****34 was not sent") == 2
