"""Product, payment and side-question actions: response names and arguments, real domain."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (
    ActionAnswerAside,
    ActionPaymentAnswer,
    ActionProductAnswer,
    ValidateProductForm,
)
from actions.repair import ActionStartOver
from borderless.services import Services
from borderless.settings import Settings
from tests.actions.conftest import make_tracker, responses


@pytest.fixture(scope="module")
def offline() -> Services:
    """Services that never reach a shop: these answers come from files only."""
    return Services.from_settings(Settings())


def asked(text: str, intent: str, **entities: str) -> dict[str, Any]:
    return {
        "event": "user",
        "text": text,
        "parse_data": {"intent": {"name": intent}, "entities": [], "text": text},
    }


def tracker_for(domain: dict[str, Any], text: str, intent: str, **slots: Any):  # type: ignore[no-untyped-def]
    tracker = make_tracker(domain, **slots)
    tracker.events = [asked(text, intent)]
    tracker.latest_message = {"intent": {"name": intent}, "entities": [], "text": text}
    return tracker


async def test_a_stock_question_in_german(domain: dict[str, Any], offline: Services) -> None:
    tracker = tracker_for(
        domain,
        "Sind die Laufschuhe vorrätig?",
        "product_question",
        product="Trail running shoes, EU 42",
        language="de",
    )
    dispatcher = CollectingDispatcher()
    assert await ActionProductAnswer(offline).run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == [
        "utter_product_variants",
        "utter_product_variants_sold_out",
        "utter_anything_else",
    ]


async def test_a_warranty_question_needs_no_product(
    domain: dict[str, Any], offline: Services
) -> None:
    tracker = tracker_for(domain, "what's your warranty?", "product_question", country="DE")
    form = ValidateProductForm(offline)
    dispatcher = CollectingDispatcher()
    assert await form.required_slots(["product"], dispatcher, tracker, domain) == []
    await ActionProductAnswer(offline).run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_warranty_legal"
    assert dispatcher.messages[0]["months"] == 24


async def test_text_that_names_no_product_is_refused(
    domain: dict[str, Any], offline: Services
) -> None:
    tracker = tracker_for(domain, "the blue thing", "inform")
    dispatcher = CollectingDispatcher()
    form = ValidateProductForm(offline)
    result = await form.validate_product("the blue thing", dispatcher, tracker, domain)
    assert result == {"product": None}
    assert responses(dispatcher) == ["utter_product_unknown"]
    ok = await form.validate_product("Smartwatch S3", CollectingDispatcher(), tracker, domain)
    assert ok == {"product": "Smartwatch S3"}


async def test_a_double_charge_offers_a_person(domain: dict[str, Any], offline: Services) -> None:
    tracker = tracker_for(domain, "I was charged twice", "payment_problem")
    dispatcher = CollectingDispatcher()
    await ActionPaymentAnswer(offline).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_double_charge", "utter_offer_human_payment"]


async def test_payment_methods_in_japan(domain: dict[str, Any], offline: Services) -> None:
    tracker = tracker_for(domain, "支払い方法は？", "payment_problem", language="ja", country="JP")
    dispatcher = CollectingDispatcher()
    await ActionPaymentAnswer(offline).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_payment_methods", "utter_anything_else"]
    assert "コンビニ払い" in dispatcher.messages[0]["methods"]


async def test_a_side_question_with_a_country_is_answered(
    domain: dict[str, Any], offline: Services
) -> None:
    tracker = tracker_for(domain, "how long to ship to Japan?", "shipping_time", country="JP")
    dispatcher = CollectingDispatcher()
    await ActionAnswerAside(offline).run(dispatcher, tracker, domain)
    names = responses(dispatcher)
    assert names[0] == "utter_shipping_intro" and names[-1] == "utter_back_to_form"


async def test_a_side_question_about_customs_gets_the_duties(
    domain: dict[str, Any], offline: Services
) -> None:
    tracker = tracker_for(domain, "do I pay customs to the US?", "shipping_cost", country="US")
    dispatcher = CollectingDispatcher()
    await ActionAnswerAside(offline).run(dispatcher, tracker, domain)
    assert responses(dispatcher)[0] == "utter_duties_ddp"


async def test_a_side_question_that_needs_more_waits(
    domain: dict[str, Any], offline: Services
) -> None:
    tracker = tracker_for(domain, "how long does shipping take?", "shipping_time")
    dispatcher = CollectingDispatcher()
    await ActionAnswerAside(offline).run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_aside_later"]


async def test_start_over_keeps_language_and_identity(domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        domain,
        language="fr",
        verified_order="BL-10001",
        order_number="BL-1",
        country="FR",
        product="Smartwatch S3",
        verification_failures=2.0,
    )
    tracker.active_loop = {"name": "order_status_form"}
    dispatcher = CollectingDispatcher()
    events = await ActionStartOver().run(dispatcher, tracker, domain)
    reset = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert reset == {"order_number": None, "country": None, "product": None}
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert responses(dispatcher) == ["utter_start_over"]
