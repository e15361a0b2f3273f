"""Return, refund, cancel and address actions against a real reference shop of their own.

The shop is this module's alone: these actions change orders, and the session-wide shop is
shared with read-only tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.changes import (
    ActionConfirmChange,
    ActionDropChange,
    ActionReviewAddressChange,
    ActionReviewCancellation,
    ValidateAddressForm,
    ValidateCancelForm,
)
from actions.returns import (
    ActionAskReturnItems,
    ActionRefundStatus,
    ActionSubmitReturn,
    ValidateReturnForm,
)
from borderless.services import Services
from borderless.settings import Settings
from tests.actions.conftest import responses
from tests.conftest import ShopService, run_shop

JAVIER = {"verified_order": "BL-10020", "verified_contact": "javier.lopez@example.org"}


@pytest.fixture(scope="module")
def own_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopService]:
    folder = tmp_path_factory.mktemp("actions-shop")
    with run_shop(f"sqlite:///{folder / 'shop.db'}", Path(folder / "shop.log")) as service:
        yield service


@pytest.fixture
def services(own_shop: ShopService) -> Services:
    settings = Settings(shop_url=own_shop.base_url, shop_api_token=own_shop.api_token)
    return Services.from_settings(settings)


def tracker(
    domain: dict[str, Any],
    *,
    form: str | None = None,
    candidates: dict[str, Any] | None = None,
    text: str = "",
    **slots: Any,
) -> Tracker:
    """A tracker as the action server gets it: slot candidates of this turn come last."""
    values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values.update(slots)
    events: list[dict[str, Any]] = [{"event": "user", "text": text}]
    for name, value in (candidates or {}).items():
        values[name] = value
        events.append({"event": "slot", "name": name, "value": value})
    return Tracker(
        sender_id="test-customer",
        slots=values,
        latest_message={"intent": {"name": "inform"}, "entities": [], "text": text},
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name="action_listen",
    )  # fmt: skip


async def run(action: Any, services: Services, domain: dict[str, Any], t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action(services=services).run(dispatcher, t, domain)
    await services.desk.close()
    return dispatcher, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_an_order_verified_earlier_is_not_asked_again(services, domain):
    t = tracker(domain, form="return_form", language="es", **JAVIER)
    dispatcher, slots = await run(ValidateReturnForm, services, domain, t)
    assert responses(dispatcher) == []
    assert (
        slots["order_number"] == "BL-10020" and slots["order_contact"] == JAVIER["verified_contact"]
    )
    assert slots["order_check"] == "return_form:ok"
    # One line only: nothing to choose, the reason comes next.
    assert slots["return_items"] == ["BL-PROJ-MINI"]
    # Every form slot is wanted now: Rasa's form asks for the first empty one, the reason.
    assert "requested_slot" not in slots


async def test_another_order_needs_its_own_contact(services, domain):
    t = tracker(domain, form="return_form", candidates={"order_number": "BL-10013"}, **JAVIER)
    _, slots = await run(ValidateReturnForm, services, domain, t)
    assert "order_contact" not in slots and "order_check" not in slots
    assert slots["requested_slot"] == "order_contact"


async def test_a_wrong_contact_is_not_found_and_asked_again(services, domain):
    candidates = {"order_number": "BL-10020", "order_contact": "mallory@example.com"}
    t = tracker(domain, form="return_form", candidates=candidates)
    dispatcher, slots = await run(ValidateReturnForm, services, domain, t)
    assert responses(dispatcher) == ["utter_order_not_found"]
    assert slots["order_number"] is None and slots["verification_failures"] == 1
    assert "verified_order" not in slots


async def test_three_misses_end_the_form_with_the_offer_of_a_person(services, domain):
    candidates = {"order_number": "BL-10020", "order_contact": "mallory@example.com"}
    t = tracker(domain, form="cancel_form", candidates=candidates, verification_failures=2)
    dispatcher, slots = await run(ValidateCancelForm, services, domain, t)
    assert responses(dispatcher) == ["utter_order_not_found", "utter_offer_human"]
    assert slots["order_check"] == "cancel_form:not_found"
    assert slots["requested_slot"] is None


async def test_an_order_on_its_way_ends_the_return_form(services, domain):
    candidates = {"order_number": "BL-10001", "order_contact": "anna.schmidt@example.de"}
    t = tracker(domain, form="return_form", candidates=candidates)
    _, slots = await run(ValidateReturnForm, services, domain, t)
    assert slots["order_check"] == "return_form:not_delivered"
    assert slots["requested_slot"] is None
    submit, _ = await run(ActionSubmitReturn, services, domain, tracker(domain, **slots))
    assert responses(submit) == ["utter_return_not_delivered_yet", "utter_anything_else"]


async def test_two_lines_are_offered_as_buttons_and_chosen_by_name(services, domain):
    candidates = {"order_number": "BL-10028", "order_contact": "felix.wagner@example.de"}
    t = tracker(domain, form="return_form", candidates=candidates, language="de")
    _, slots = await run(ValidateReturnForm, services, domain, t)
    assert slots["order_check"] == "return_form:ok" and "return_items" not in slots
    ask, _ = await run(
        ActionAskReturnItems, services, domain, tracker(domain, language="de", **slots)
    )
    (message,) = ask.messages
    assert message["response"] == "utter_ask_return_items"
    assert message["items"] == "Mechanical keyboard 75%, brown switches und PBT keycap set, sakura"
    assert message["buttons"][0]["payload"] == (
        '/inform{"product": "Mechanical keyboard 75%, brown switches"}'
    )
    chosen_turn = tracker(
        domain, form="return_form", candidates={"return_items": "die Tastenkappen, PBT keycap"},
        language="de", **slots, requested_slot="return_items",
    )  # fmt: skip
    _, chosen = await run(ValidateReturnForm, services, domain, chosen_turn)
    assert chosen["return_items"] == ["BL-KEY-SAK"]


async def test_a_return_is_registered_with_label_and_refund_timeline(services, domain):
    slots = {
        "verified_order": "BL-10028", "verified_contact": "felix.wagner@example.de",
        "order_check": "return_form:ok", "return_items": ["BL-KB-75"],
        "return_reason": "Die Taste E klemmt", "language": "de",
    }  # fmt: skip
    dispatcher, events = await run(ActionSubmitReturn, services, domain, tracker(domain, **slots))
    assert responses(dispatcher) == [
        "utter_return_created", "utter_return_label", "utter_return_refund_timeline",
        "utter_anything_else",
    ]  # fmt: skip
    created = dispatcher.messages[0]
    assert created["return_reference"].startswith("R10028-")
    assert created["items"] == "Mechanical keyboard 75%, brown switches"
    assert dispatcher.messages[2]["refund_total"] == "119,00\xa0€"
    assert events["order_check"] is None and events["return_items"] is None
    # The same line again: nothing left of it to return.
    again, _ = await run(ActionSubmitReturn, services, domain, tracker(domain, **slots))
    assert responses(again)[0] == "utter_return_created"  # the other line, the keycaps
    third, _ = await run(ActionSubmitReturn, services, domain, tracker(domain, **slots))
    assert responses(third)[0] == "utter_return_already_requested"


async def test_final_sale_lines_are_left_out_and_said_so(services, domain):
    slots = {
        "verified_order": "BL-10031", "verified_contact": "wang.fang@example.cn",
        "order_check": "return_form:ok", "return_items": None, "return_reason": "changed_mind",
        "language": "zh",
    }  # fmt: skip
    dispatcher, _ = await run(ActionSubmitReturn, services, domain, tracker(domain, **slots))
    said = responses(dispatcher)
    assert said[:3] == [
        "utter_return_created",
        "utter_return_final_sale_excluded",
        "utter_return_ship_to",
    ]
    assert dispatcher.messages[1]["items"] == "Vitamin C serum, 30 ml"
    assert "Shenzhen" in dispatcher.messages[2]["return_address"]


async def test_refund_status_of_a_refunded_return_in_german(services, domain):
    slots = {
        "verified_order": "BL-10016", "verified_contact": "+4917612345678",
        "order_check": "refund_form:ok", "language": "de",
    }  # fmt: skip
    dispatcher, _ = await run(ActionRefundStatus, services, domain, tracker(domain, **slots))
    assert responses(dispatcher) == ["utter_refund_refunded", "utter_anything_else"]
    refunded = dispatcher.messages[0]
    assert refunded["refund_amount"] == "119,00\xa0€" and refunded["return_reference"] == "R10016-1"


async def test_no_return_yet_offers_one(services, domain):
    slots = {
        "verified_order": "BL-10001", "verified_contact": "anna.schmidt@example.de",
        "order_check": "refund_form:ok",
    }  # fmt: skip
    dispatcher, _ = await run(ActionRefundStatus, services, domain, tracker(domain, **slots))
    assert responses(dispatcher) == ["utter_refund_none", "utter_anything_else"]


KATRIN = {"verified_order": "BL-10033", "verified_contact": "katrin.vogel@example.de"}


async def test_cancel_is_restated_and_only_done_on_yes(services, domain):
    review_slots = {**KATRIN, "order_check": "cancel_form:ok", "language": "de"}
    review, slots = await run(
        ActionReviewCancellation, services, domain, tracker(domain, **review_slots)
    )
    assert responses(review) == ["utter_confirm_cancel"]
    assert review.messages[0]["total"] == "329,00\xa0€"
    assert slots["pending_change"] == "cancel:BL-10033:paid"
    kept, kept_slots = await run(
        ActionDropChange, services, domain, tracker(domain, **KATRIN, **slots)
    )
    assert responses(kept) == ["utter_change_kept"] and kept_slots["pending_change"] is None
    done, _ = await run(ActionConfirmChange, services, domain, tracker(domain, **KATRIN, **slots))
    assert responses(done) == [
        "utter_order_cancelled_now",
        "utter_cancel_refund",
        "utter_anything_else",
    ]
    again, _ = await run(
        ActionReviewCancellation, services, domain, tracker(domain, **review_slots)
    )
    assert responses(again) == ["utter_order_already_cancelled"]


async def test_yes_without_a_restated_change_changes_nothing(services, domain):
    dispatcher, _ = await run(ActionConfirmChange, services, domain, tracker(domain, **KATRIN))
    assert responses(dispatcher) == ["utter_what_else"]
    other = {**KATRIN, "pending_change": "cancel:BL-10034:paid"}  # not the verified order
    dispatcher, _ = await run(ActionConfirmChange, services, domain, tracker(domain, **other))
    assert responses(dispatcher) == ["utter_what_else"]


async def test_a_shipped_order_is_neither_cancelled_nor_readdressed(services, domain):
    anna = {"verified_order": "BL-10001", "verified_contact": "anna.schmidt@example.de"}
    review, slots = await run(
        ActionReviewCancellation, services, domain,
        tracker(domain, **anna, order_check="cancel_form:ok"),
    )  # fmt: skip
    assert responses(review) == ["utter_cannot_cancel_shipped"]
    assert review.messages[0]["window_days"] == 14 and slots["pending_change"] is None
    form, form_slots = await run(
        ValidateAddressForm, services, domain, tracker(domain, form="address_form", **anna)
    )
    assert form_slots["order_check"] == "address_form:already_fulfilled"
    assert form_slots["requested_slot"] is None  # no address is asked for
    review, _ = await run(
        ActionReviewAddressChange, services, domain, tracker(domain, **{**anna, **form_slots})
    )
    assert responses(review) == ["utter_cannot_change_address_shipped"]


async def test_a_new_address_is_asked_restated_and_saved(services, domain):
    noah = {"verified_order": "BL-10041", "verified_contact": "noah.fischer@example.ch"}
    _, slots = await run(
        ValidateAddressForm, services, domain, tracker(domain, form="address_form", **noah)
    )
    assert slots["order_check"] == "address_form:ok" and "requested_slot" not in slots
    short = tracker(
        domain, form="address_form", candidates={"new_address": "Zürich"}, **{**noah, **slots}
    )
    dispatcher, short_slots = await run(ValidateAddressForm, services, domain, short)
    assert (
        responses(dispatcher) == ["utter_address_incomplete"] and short_slots["new_address"] is None
    )
    address = "Noah Fischer, Bahnhofstrasse 12, 8001 Zürich, Schweiz"
    review, pending = await run(
        ActionReviewAddressChange, services, domain,
        tracker(domain, **noah, order_check="address_form:ok", new_address=address),
    )  # fmt: skip
    assert responses(review) == ["utter_confirm_address"]
    assert review.messages[0]["new_address"] == address
    done, _ = await run(
        ActionConfirmChange, services, domain,
        tracker(domain, **noah, new_address=address, pending_change=pending["pending_change"]),
    )  # fmt: skip
    assert responses(done) == ["utter_address_changed", "utter_anything_else"]
    assert done.messages[0]["new_address"] == address
