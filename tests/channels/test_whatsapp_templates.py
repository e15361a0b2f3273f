"""Outside the 24-hour window, the template goes out in the conversation's language (both
WhatsApp routes), and what the two WhatsApp inputs share lives in one base class."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from rasa.shared.exceptions import RasaException

from borderless.channels._common import WhatsAppWebhookInput, language_map
from borderless.channels.twilio_whatsapp import TwilioWhatsAppConfig, TwilioWhatsAppInput
from borderless.channels.whatsapp import WhatsAppCloudConfig, WhatsAppCloudInput

if TYPE_CHECKING:
    from conftest import ProviderApi

WA_CUSTOMER = "16505551234"
TWILIO_CUSTOMER = "whatsapp:+4915112345678"
DAY = 24 * 3600


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


def cloud_credentials(graph_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "verify_token": "v",
        "app_secret": "s",
        "access_token": "t",
        "phone_number_id": "106540352242922",
        "graph_url": graph_url,
        "template_name": "order_update",
        "template_language": "en_US",
        **extra,
    }


def twilio_credentials(api_base: str, **extra: Any) -> dict[str, Any]:
    return {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "twilio-token",
        "twilio_number": "+14155238886",
        "api_base": api_base,
        "template_content_sid": "HXenglish",
        **extra,
    }


@pytest.fixture
def clock() -> Clock:
    return Clock(time.time())


@pytest.fixture
async def cloud(provider_api: ProviderApi, clock: Clock) -> AsyncIterator[WhatsAppCloudInput]:
    channel = WhatsAppCloudInput(
        WhatsAppCloudConfig.from_credentials(cloud_credentials(provider_api.base_url)),
        clock=clock,
    )
    yield channel
    await channel.aclose()


async def answer_then_close_the_window(
    channel: WhatsAppWebhookInput, customer: str, clock: Clock, language: str | None
) -> None:
    """The bot answers in ``language`` inside the window; a day later an agent replies (an
    agent's message carries no language)."""
    await channel.window.record_inbound(customer, clock.now)
    output = channel.get_output_channel()
    message: dict[str, Any] = {"text": "Hallo!", "utter_action": "utter_greet"}
    if language:
        message["language"] = language
    await output.send_response(customer, message)
    clock.now += DAY + 60
    await output.send_response(customer, {"text": "Ihr Paket ist da."})


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("de", "de"),
        ("pt", "pt_BR"),
        ("zh", "zh_CN"),
        ("ar", "ar"),
        ("en", "en_US"),
        (None, "en_US"),
    ],
)
async def test_the_template_goes_out_in_the_conversation_language(
    cloud: WhatsAppCloudInput, provider_api: ProviderApi, clock: Clock, language: Any, code: str
) -> None:
    await answer_then_close_the_window(cloud, WA_CUSTOMER, clock, language)
    text, template = (r.json for r in provider_api.requests)
    assert text["type"] == "text"
    assert template["template"] == {"name": "order_update", "language": {"code": code}}


async def test_a_template_not_translated_falls_back_to_the_default_language(
    cloud: WhatsAppCloudInput, provider_api: ProviderApi, clock: Clock
) -> None:
    provider_api.answer(200, {"messages": [{"id": "wamid.1"}]})
    provider_api.answer(
        404,
        {"error": {"message": "Template name does not exist in the translation", "code": 132001}},
    )
    await answer_then_close_the_window(cloud, WA_CUSTOMER, clock, "ja")
    languages = [r.json["template"]["language"]["code"] for r in provider_api.requests[1:]]
    assert languages == ["ja", "en_US"]


async def test_template_languages_can_be_configured(
    provider_api: ProviderApi, clock: Clock
) -> None:
    credentials = cloud_credentials(provider_api.base_url, template_languages="pt: pt_PT, en:en_GB")
    config = WhatsAppCloudConfig.from_credentials(credentials)
    assert config.template_language_for("pt") == "pt_PT"
    assert config.template_language_for("en") == "en_GB"
    assert config.template_language_for("de") == "de"
    assert config.template_language_for("ru") == "en_US"
    with pytest.raises(RasaException):
        WhatsAppCloudConfig.from_credentials(
            cloud_credentials(provider_api.base_url, template_languages="pt=pt_PT")
        )


async def test_twilio_sends_the_content_template_of_the_conversation_language(
    provider_api: ProviderApi, clock: Clock
) -> None:
    credentials = twilio_credentials(
        provider_api.base_url, template_content_sids={"de": "HXgerman", "ar": "HXarabic"}
    )
    channel = TwilioWhatsAppInput(TwilioWhatsAppConfig.from_credentials(credentials), clock=clock)
    await answer_then_close_the_window(channel, TWILIO_CUSTOMER, clock, "de")
    other = "whatsapp:+33612345678"
    await answer_then_close_the_window(channel, other, clock, "fr")  # no French template
    sids = [v for r in provider_api.requests for k, v in r.form if k == "ContentSid"]
    assert sids == ["HXgerman", "HXenglish"]
    await channel.aclose()


def test_both_whatsapp_inputs_share_one_base() -> None:
    assert issubclass(WhatsAppCloudInput, WhatsAppWebhookInput)
    assert issubclass(TwilioWhatsAppInput, WhatsAppWebhookInput)
    cloud = WhatsAppCloudInput(WhatsAppCloudConfig.from_credentials(cloud_credentials("http://x")))
    twilio = TwilioWhatsAppInput(
        TwilioWhatsAppConfig.from_credentials(twilio_credentials("http://x"))
    )
    assert (cloud.name(), twilio.name()) == ("whatsapp", "twilio_whatsapp")
    assert cloud.sender.system == "WhatsApp Cloud API" and twilio.sender.system == "Twilio"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, {}), ("", {}), ("de:de", {"de": "de"}), ({"PT": " pt_BR "}, {"pt": "pt_BR"})],
)
def test_language_maps(value: Any, expected: dict[str, str]) -> None:
    assert language_map(value, "x") == expected
