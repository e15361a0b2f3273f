"""WhatsApp through Twilio: signature validation, fast TwiML answer, numbered buttons, REST sends.

Inbound forms carry the fields Twilio documents for WhatsApp messages (From ``whatsapp:+…``,
Body, MessageSid, WaId, ProfileName, ButtonPayload, NumMedia/MediaUrl0, Latitude/Longitude). The
channel runs in a real Sanic server; a local HTTP server plays Twilio's Messages API.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.exceptions import RasaException

from borderless.channels.twilio_whatsapp import (
    ButtonMemory,
    TwilioWhatsAppConfig,
    TwilioWhatsAppInput,
    TwilioWhatsAppOutput,
    twilio_signature,
    verify_twilio_signature,
)

if TYPE_CHECKING:
    from conftest import ProviderApi, RunningChannel, ServeChannel

ACCOUNT_SID = "AC00000000000000000000000000000001"
AUTH_TOKEN = "test-auth-token"
BUSINESS = "whatsapp:+14155238886"
CUSTOMER = "whatsapp:+4915112345678"
WEBHOOK = "/webhooks/twilio_whatsapp/webhook"


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


def credentials(api_base: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "twilio_number": "+14155238886",
        "api_base": api_base,
        "template_content_sid": "HX0000000000000000000000000000abcd",
        **extra,
    }


def inbound(body: str = "Where is my order?", sid: str = "SM1", **fields: str) -> dict[str, str]:
    return {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Jonas",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": "4915112345678",
        "SmsStatus": "received",
        "Body": body,
        "To": BUSINESS,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": CUSTOMER,
        "ApiVersion": "2010-04-01",
        **fields,
    }


async def post_form(
    running: RunningChannel,
    form: dict[str, str],
    *,
    signature: str | None = "sign",
    signed_url: str | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> tuple[int, str, str]:
    url = running.base_url + WEBHOOK
    headers = {"Content-Type": content_type}
    if signature == "sign":
        signature = twilio_signature(AUTH_TOKEN, signed_url or url, form.items())
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    async with running.session.post(url, data=urlencode(form), headers=headers) as response:
        return response.status, response.content_type, await response.text()


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
async def channel(provider_api: ProviderApi, clock: Clock) -> AsyncIterator[TwilioWhatsAppInput]:
    config = TwilioWhatsAppConfig.from_credentials(credentials(provider_api.base_url))
    channel = TwilioWhatsAppInput(config, clock=clock)
    yield channel
    await channel.aclose()


@pytest.fixture
async def running(
    channel: TwilioWhatsAppInput, serve_channel: ServeChannel
) -> AsyncIterator[RunningChannel]:
    async with serve_channel(channel) as running:
        yield running


# -- the signature ------------------------------------------------------------------------------

DOCS_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOCS_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675310",
    "Digits": "1234",
    "From": "+14158675310",
    "To": "+18005551212",
}

DOCS_SIGNATURE = "GvWf1cFY/Q7PnoempGyD5oXAezc="


def test_signature_matches_twilios_documented_example() -> None:
    # Twilio's own signature-validation snippet (TwilioDevEd/api-snippets,
    # security/signature_validation): auth token 12345, this URL and these parameters.
    assert (
        twilio_signature("12345", DOCS_URL, DOCS_PARAMS.items()) == "GvWf1cFY/Q7PnoempGyD5oXAezc="
    )
    assert verify_twilio_signature(
        "12345", DOCS_URL, list(DOCS_PARAMS.items()), "GvWf1cFY/Q7PnoempGyD5oXAezc="
    )
    assert not verify_twilio_signature(
        "12346", DOCS_URL, list(DOCS_PARAMS.items()), "GvWf1cFY/Q7PnoempGyD5oXAezc="
    )


def test_signature_agrees_with_the_twilio_helper_library() -> None:
    from twilio.request_validator import RequestValidator  # independent implementation

    validator = RequestValidator(AUTH_TOKEN)
    url = "https://bot.example.com/webhooks/twilio_whatsapp/webhook"
    for form in (inbound(), inbound("Grüße 👋 & ¿qué?", ButtonPayload="/affirm"), {}):
        ours = twilio_signature(AUTH_TOKEN, url, form.items())
        assert ours == validator.compute_signature(url, form)
        assert validator.validate(url, form, ours)


def test_signature_accepts_the_url_with_or_without_the_default_port() -> None:
    params = list(inbound().items())
    with_port = twilio_signature(AUTH_TOKEN, "https://bot.example.com:443/hook", params)
    assert verify_twilio_signature(AUTH_TOKEN, "https://bot.example.com/hook", params, with_port)
    plain = twilio_signature(AUTH_TOKEN, "https://bot.example.com/hook", params)
    assert verify_twilio_signature(AUTH_TOKEN, "https://bot.example.com:443/hook", params, plain)
    assert not verify_twilio_signature(AUTH_TOKEN, "https://bot.example.com/other", params, plain)
    assert not verify_twilio_signature(AUTH_TOKEN, "https://bot.example.com/hook", params, None)
    assert not verify_twilio_signature(AUTH_TOKEN, "https://x/hook", params, "ü" * 28)


def test_every_parameter_is_signed() -> None:
    form = inbound()
    signature = twilio_signature(AUTH_TOKEN, "https://x/h", form.items())
    tampered = dict(form, Body="Refund everything")
    assert not verify_twilio_signature(AUTH_TOKEN, "https://x/h", list(tampered.items()), signature)
    decoded = base64.b64decode(signature)
    assert len(decoded) == 20  # HMAC-SHA1


# -- the webhook --------------------------------------------------------------------------------


async def test_a_signed_message_gets_empty_twiml_and_reaches_rasa(running: RunningChannel) -> None:
    status, content_type, text = await post_form(running, inbound())
    assert (status, content_type) == (200, "text/xml")
    assert text.endswith("<Response/>")
    [message] = await running.agent.wait_for(1)
    assert message.text == "Where is my order?"
    assert message.sender_id == CUSTOMER
    assert message.input_channel == "twilio_whatsapp"
    assert message.message_id == "SM1"
    assert isinstance(message.output_channel, TwilioWhatsAppOutput)
    assert message.metadata == {
        "channel": "whatsapp",
        "provider": "twilio",
        "phone": "+4915112345678",
        "wa_id": "4915112345678",
        "message_sid": "SM1",
        "profile_name": "Jonas",
        "country_hint": "DE",
    }


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "sign-other-url"])
async def test_unsigned_or_forged_requests_are_refused(
    running: RunningChannel, signature: str | None
) -> None:
    if signature == "sign-other-url":
        signature = twilio_signature(AUTH_TOKEN, "https://evil.example/x", inbound().items())
    status, _, text = await post_form(running, inbound(), signature=signature)
    assert status == 403 and "invalid signature" in text
    await asyncio.sleep(0.05)
    assert running.agent.started == []


async def test_behind_a_proxy_the_configured_public_url_is_what_is_signed(
    provider_api: ProviderApi, serve_channel: ServeChannel
) -> None:
    public = "https://bot.example.com/webhooks/twilio_whatsapp/webhook?tenant=eu"
    config = TwilioWhatsAppConfig.from_credentials(
        credentials(provider_api.base_url, webhook_url=public)
    )
    channel = TwilioWhatsAppInput(config)
    async with serve_channel(channel) as running:
        assert (await post_form(running, inbound(), signed_url=public))[0] == 200
        assert (await post_form(running, inbound(sid="SM2")))[0] == 403  # local URL signed
        await running.agent.wait_for(1)


async def test_a_redelivered_message_sid_is_processed_once(running: RunningChannel) -> None:
    for _ in range(3):
        assert (await post_form(running, inbound()))[0] == 200
    await running.agent.wait_for(1)
    await asyncio.sleep(0.05)
    assert len(running.agent.started) == 1


async def test_a_template_quick_reply_gives_its_payload(running: RunningChannel) -> None:
    form = inbound("Yes", sid="SM9", ButtonPayload="/affirm", ButtonText="Yes")
    await post_form(running, form)
    [message] = await running.agent.wait_for(1)
    assert message.text == "/affirm"


async def test_media_and_locations_arrive_empty_with_details(running: RunningChannel) -> None:
    media = inbound(
        "Arrived broken",
        sid="SMm",
        NumMedia="1",
        MediaUrl0=f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/SMm/Media/ME1",
        MediaContentType0="image/jpeg",
    )
    location = inbound("", sid="SMl", Latitude="48.8584", Longitude="2.2945", Label="Tour Eiffel")
    await post_form(running, media)
    await post_form(running, location)
    image, place = await running.agent.wait_for(2)
    assert image.text == "" and image.metadata["unsupported_type"] == "image"
    assert image.metadata["caption"] == "Arrived broken"
    assert image.metadata["media"][0]["mime_type"] == "image/jpeg"
    assert place.text == "" and place.metadata["unsupported_type"] == "location"
    assert place.metadata["location"] == {
        "latitude": 48.8584,
        "longitude": 2.2945,
        "name": "Tour Eiffel",
    }


async def test_bad_requests_get_4xx_and_the_server_survives(running: RunningChannel) -> None:
    missing_from = {k: v for k, v in inbound().items() if k != "From"}
    status, _, text = await post_form(running, missing_from)
    assert status == 400 and "From is missing" in text
    no_sid = {k: v for k, v in inbound().items() if "Sid" not in k}
    assert (await post_form(running, no_sid))[0] == 400
    assert (await post_form(running, inbound(), content_type="application/json"))[0] == 415

    url = running.base_url + WEBHOOK
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with running.session.post(url, data=b"Body=\xff\xfe", headers=headers) as response:
        assert response.status == 400
    async with running.session.post(url, data=b"a=1&" * 70_000, headers=headers) as response:
        assert response.status == 413
    many = "&".join(f"k{n}=v" for n in range(500)).encode()
    async with running.session.post(url, data=many, headers=headers) as response:
        assert response.status == 400

    assert (await post_form(running, inbound(sid="SMok")))[0] == 200
    assert len(await running.agent.wait_for(1)) == 1


async def test_the_webhook_answers_before_a_slow_bot_turn(running: RunningChannel) -> None:
    async def slow(_: UserMessage) -> None:
        await asyncio.sleep(1.0)

    running.agent.responder = slow
    started = time.monotonic()
    assert (await post_form(running, inbound()))[0] == 200
    assert time.monotonic() - started < 0.5
    await running.agent.wait_for(1, timeout=3)


# -- replies through the REST API ---------------------------------------------------------------


async def test_a_reply_is_posted_to_the_messages_api(
    running: RunningChannel, provider_api: ProviderApi
) -> None:
    async def reply(message: UserMessage) -> None:
        await message.output_channel.send_response(message.sender_id, {"text": "On its way!"})

    running.agent.responder = reply
    await post_form(running, inbound())
    [request] = await provider_api.wait_for(1)
    assert request.method == "POST"
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected_auth}"
    assert request.form == [("From", BUSINESS), ("To", CUSTOMER), ("Body", "On its way!")]


async def test_buttons_are_numbered_and_a_number_picks_the_payload(
    running: RunningChannel, provider_api: ProviderApi
) -> None:
    buttons = [
        {"title": "Yes, please", "payload": "/affirm"},
        {"title": "No, thanks", "payload": "/deny"},
        {"title": "Talk to a person", "payload": "/handoff"},
    ]

    async def reply(message: UserMessage) -> None:
        if message.text == "Where is my order?":
            await message.output_channel.send_response(
                message.sender_id, {"text": "Shall I resend the link?", "buttons": buttons}
            )

    running.agent.responder = reply
    await post_form(running, inbound())
    [request] = await provider_api.wait_for(1)
    assert dict(request.form)["Body"] == (
        "Shall I resend the link?\n\n1. Yes, please\n2. No, thanks\n3. Talk to a person"
    )
    await post_form(running, inbound("2", sid="SM2"))
    messages = await running.agent.wait_for(2)
    assert messages[1].text == "/deny"
    assert messages[1].metadata["reply"] == {"text": "2", "payload": "/deny"}
    await post_form(running, inbound("2", sid="SM3"))  # the menu was answered: "2" is just 2
    assert (await running.agent.wait_for(3))[2].text == "2"


def test_button_memory_understands_variants_of_an_answer() -> None:
    from borderless.channels._common import ButtonOption

    memory = ButtonMemory()
    options = [ButtonOption("Yes, please", "/affirm"), ButtonOption("No", "/deny")]
    for answer, payload in [
        ("1", "/affirm"),
        (" 2. ", "/deny"),
        ("1)", "/affirm"),
        ("١", "/affirm"),  # Arabic-Indic digit one
        ("２", "/deny"),  # full-width two
        ("yes, PLEASE", "/affirm"),
        ("3", None),
        ("maybe", None),
    ]:
        memory.remember(CUSTOMER, options)
        assert memory.resolve(CUSTOMER, answer) == payload, answer
    assert memory.resolve(CUSTOMER, "1") is None  # nothing remembered any more


async def test_long_text_is_split_for_twilios_1600_limit(
    channel: TwilioWhatsAppInput, provider_api: ProviderApi
) -> None:
    await channel.window.record_inbound(CUSTOMER)
    text = "\n\n".join(["Lorem ipsum dolor sit amet, consectetur." * 25] * 3)
    await channel.get_output_channel().send_text_message(CUSTOMER, text)
    bodies = [dict(r.form)["Body"] for r in provider_api.requests]
    assert len(bodies) == 3 and all(len(b) <= 1600 for b in bodies)


async def test_images_and_custom_parameters(
    channel: TwilioWhatsAppInput, provider_api: ProviderApi
) -> None:
    await channel.window.record_inbound(CUSTOMER)
    output = channel.get_output_channel()
    await output.send_image_url(CUSTOMER, "https://cdn.example/p.jpg")
    await output.send_custom_json(
        CUSTOMER,
        {"ContentSid": "HXorder", "ContentVariables": {"1": "BL-10001"}, "MediaUrl": ["a", "b"]},
    )
    image, custom = provider_api.requests
    assert ("MediaUrl", "https://cdn.example/p.jpg") in image.form
    assert ("ContentSid", "HXorder") in custom.form
    assert ("ContentVariables", '{"1": "BL-10001"}') in custom.form
    assert [v for k, v in custom.form if k == "MediaUrl"] == ["a", "b"]


# -- the 24-hour window --------------------------------------------------------------------------


async def test_outside_the_window_the_content_template_is_sent_once(
    channel: TwilioWhatsAppInput, provider_api: ProviderApi, clock: Clock
) -> None:
    output = channel.get_output_channel()
    await channel.window.record_inbound(CUSTOMER)
    clock.now += 25 * 3600
    assert not await channel.in_service_window(CUSTOMER)
    await output.send_text_message(CUSTOMER, "Your parcel was delivered.")
    await output.send_text_message(CUSTOMER, "Anything else?")
    [request] = provider_api.requests
    assert request.form == [
        ("From", BUSINESS),
        ("To", CUSTOMER),
        ("ContentSid", "HX0000000000000000000000000000abcd"),
    ]


async def test_twilio_saying_the_window_is_closed_wins(
    channel: TwilioWhatsAppInput, provider_api: ProviderApi
) -> None:
    await channel.window.record_inbound(CUSTOMER)
    provider_api.answer(
        400,
        {
            "code": 63016,
            "message": "Failed to send freeform message because you are outside the allowed window",
            "status": 400,
        },
    )
    await channel.get_output_channel().send_text_message(CUSTOMER, "Refund sent.")
    first, second = provider_api.requests
    assert ("Body", "Refund sent.") in first.form
    assert ("ContentSid", "HX0000000000000000000000000000abcd") in second.form


async def test_buttons_withheld_outside_the_window_are_not_remembered(
    channel: TwilioWhatsAppInput, provider_api: ProviderApi, caplog: pytest.LogCaptureFixture
) -> None:
    settings = credentials(provider_api.base_url)
    del settings["template_content_sid"]
    quiet = TwilioWhatsAppInput(TwilioWhatsAppConfig.from_credentials(settings))
    with caplog.at_level(logging.WARNING):
        await quiet.get_output_channel().send_text_with_buttons(
            CUSTOMER, "Pick", [{"title": "A", "payload": "/a"}]
        )
    assert provider_api.requests == []
    assert quiet.buttons.resolve(CUSTOMER, "1") is None
    assert "no template_content_sid" in caplog.text and "15112345678" not in caplog.text
    await quiet.aclose()


# -- configuration ------------------------------------------------------------------------------


def test_from_credentials() -> None:
    with pytest.raises(RasaException, match="auth_token"):
        TwilioWhatsAppInput.from_credentials({"account_sid": "AC1", "twilio_number": "+1"})
    with pytest.raises(RasaException):
        TwilioWhatsAppInput.from_credentials(None)
    channel = TwilioWhatsAppInput.from_credentials(
        {"account_sid": "AC1", "auth_token": "t", "twilio_number": "+14155238886"}
    )
    assert isinstance(channel, TwilioWhatsAppInput)
    assert channel.config.twilio_number == "whatsapp:+14155238886"
    assert channel.config.messages_url == (
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
    )
    assert channel.name() == "twilio_whatsapp"
