"""The order-status actions against the real reference shop (started over HTTP by conftest)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionCheckOrderStatus, ValidateOrderStatusForm
from borderless.services import Services
from borderless.settings import Settings
from tests.actions.conftest import make_tracker, responses

ANNA = {"order_number": "BL-10001", "order_contact": "anna.schmidt@example.de"}


async def run_check(services: Services, domain: dict[str, Any], **slots: Any):
    dispatcher = CollectingDispatcher()
    action = ActionCheckOrderStatus(services=services)
    events = await action.run(dispatcher, make_tracker(domain, **slots), domain)
    await services.desk.close()
    return dispatcher, events


async def test_verified_order_gets_status_carrier_tracking_checkpoint_and_eta(services, domain):
    dispatcher, events = await run_check(services, domain, language="en", **ANNA)
    said = responses(dispatcher)
    assert said[0] == "utter_order_status_in_transit"
    assert "utter_parcel" in said
    assert any(name.startswith("utter_checkpoint_") for name in said)
    assert "utter_expected_delivery" in said
    assert said[-1] == "utter_anything_else"
    parcel = next(m for m in dispatcher.messages if m["response"] == "utter_parcel")
    assert parcel["carrier"] and parcel["tracking_number"] and parcel["tracking_url"]
    assert SlotSet("verified_order", "BL-10001") in events
    assert SlotSet("order_contact", None) in events


async def test_dates_and_countries_follow_the_customer_language(services, domain):
    english, _ = await run_check(services, domain, language="en", **ANNA)
    german, _ = await run_check(
        Services.from_settings(services.settings), domain, language="de", **ANNA
    )

    def arg(dispatcher: CollectingDispatcher, response: str, key: str) -> str:
        return next(m[key] for m in dispatcher.messages if m["response"] == response)

    assert arg(english, "utter_order_status_in_transit", "country") == "Germany"
    assert arg(german, "utter_order_status_in_transit", "country") == "Deutschland"
    en_eta = arg(english, "utter_expected_delivery", "expected_delivery")
    de_eta = arg(german, "utter_expected_delivery", "expected_delivery")
    assert en_eta != de_eta
    weekdays_de = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
    assert de_eta.startswith(weekdays_de), de_eta


async def test_the_phone_the_order_was_placed_with_also_verifies(services, domain, shop_orders):
    order = shop_orders["BL-10001"]
    dispatcher, events = await run_check(
        services, domain, order_number="BL-10001", order_contact=order["phone"]
    )
    assert responses(dispatcher)[0] == "utter_order_status_in_transit"
    assert SlotSet("verified_order", "BL-10001") in events


@pytest.mark.parametrize(
    "slots",
    [
        {"order_number": "BL-10001", "order_contact": "someone.else@example.com"},
        {"order_number": "BL-99999", "order_contact": "anna.schmidt@example.de"},
        {"order_number": "BL-10001", "order_contact": "+15555550100"},
    ],
    ids=["wrong email", "unknown number", "wrong phone"],
)
async def test_wrong_pair_and_unknown_number_get_the_same_answer(services, domain, slots):
    dispatcher, events = await run_check(services, domain, **slots)
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert SlotSet("verification_failures", 1) in events
    assert not any(e.get("name") == "verified_order" for e in events)


async def test_third_failed_verification_offers_a_human(services, domain):
    dispatcher, events = await run_check(
        services, domain, verification_failures=2, order_number="BL-10001",
        order_contact="nobody@example.com",
    )  # fmt: skip
    assert responses(dispatcher) == ["utter_order_not_found", "utter_offer_human"]
    assert SlotSet("verification_failures", 3) in events


async def test_a_backend_that_is_down_gets_an_apology_quickly(domain, free_port):
    settings = Settings(shop_url=f"http://127.0.0.1:{free_port}", backend_timeout=1.0)
    started = time.monotonic()
    dispatcher, _ = await run_check(Services.from_settings(settings), domain, **ANNA)
    assert responses(dispatcher) == ["utter_backend_error"]
    assert time.monotonic() - started < 3


async def test_a_backend_that_hangs_gets_an_apology_within_three_seconds(domain, hanging_server):
    settings = Settings(shop_url=hanging_server, backend_timeout=2.0)
    started = time.monotonic()
    dispatcher, _ = await run_check(Services.from_settings(settings), domain, **ANNA)
    assert responses(dispatcher) == ["utter_backend_error"]
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("BL-10001", "BL-10001"),
        ("my order is bl10001 thanks", "BL-10001"),
        ("#BL 10001", "BL-10001"),
        ("12345", None),
        ("", None),
        ("x" * 5000, None),
    ],
)
def test_order_number_validation(services, domain, typed, expected):
    dispatcher = CollectingDispatcher()
    form = ValidateOrderStatusForm(services=services)
    result = form.validate_order_number(typed, dispatcher, make_tracker(domain), domain)
    assert result == {"order_number": expected}
    assert responses(dispatcher) == ([] if expected else ["utter_invalid_order_number"])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Anna.Schmidt@Example.de", "anna.schmidt@example.de"),
        ("it's anna.schmidt@example.de", "anna.schmidt@example.de"),
        ("+49 151 2345 6789", "+4915123456789"),
        ("anna at example dot de", None),
        ("anna@example", None),
        ("🙂🙂", None),
    ],
)
def test_contact_validation(services, domain, typed, expected):
    dispatcher = CollectingDispatcher()
    form = ValidateOrderStatusForm(services=services)
    result = form.validate_order_contact(typed, dispatcher, make_tracker(domain), domain)
    assert result == {"order_contact": expected}
    assert responses(dispatcher) == ([] if expected else ["utter_invalid_contact"])


async def test_the_whatsapp_senders_phone_stands_in_for_the_email(services, domain, shop_orders):
    phone = shop_orders["BL-10001"]["phone"]
    tracker = make_tracker(domain, order_number="BL-10001")
    tracker.latest_message = {"text": "BL-10001", "metadata": {"phone": phone}}
    tracker.events = [{"event": "user", "text": "BL-10001", "input_channel": "whatsapp"}]
    form = ValidateOrderStatusForm(services=services)
    extracted = await form.extract_order_contact(CollectingDispatcher(), tracker, domain)
    assert extracted == {"order_contact": phone}
    tracker.slots["order_contact"] = "anna.schmidt@example.de"
    assert await form.extract_order_contact(CollectingDispatcher(), tracker, domain) == {}
    tracker.slots["order_contact"] = None
    tracker.latest_message = {"text": "BL-10001", "metadata": {}}
    assert await form.extract_order_contact(CollectingDispatcher(), tracker, domain) == {}


@pytest.mark.parametrize("channel", ["rest", "socketio", None])
async def test_a_phone_in_metadata_counts_only_where_whatsapp_proved_it(
    services, domain, shop_orders, channel
):
    """REST and the widget pass metadata the client wrote: claiming the order's phone there
    must not skip the question for the email or phone."""
    phone = shop_orders["BL-10001"]["phone"]
    tracker = make_tracker(domain, order_number="BL-10001")
    tracker.latest_message = {"text": "BL-10001", "metadata": {"phone": phone}}
    tracker.events = [{"event": "user", "text": "BL-10001", "input_channel": channel}]
    form = ValidateOrderStatusForm(services=services)
    assert await form.extract_order_contact(CollectingDispatcher(), tracker, domain) == {}


@pytest.mark.parametrize(("channel", "taken"), [("whatsapp", True), ("rest", False)])
async def test_the_order_change_forms_trust_a_phone_only_from_whatsapp(
    services, domain, shop_orders, channel, taken
):
    """The return/refund/cancel/address forms share the order-status form's rule."""
    from actions.returns import ValidateReturnForm

    phone = shop_orders["BL-10001"]["phone"]
    tracker = make_tracker(domain, order_number="BL-10001")
    tracker.latest_message = {"text": "BL-10001", "metadata": {"phone": phone}}
    tracker.events = [{"event": "user", "text": "BL-10001", "input_channel": channel}]
    form = ValidateReturnForm(services=services)
    extracted = await form.extract_order_contact(CollectingDispatcher(), tracker, domain)
    assert extracted == ({"order_contact": phone} if taken else {})
