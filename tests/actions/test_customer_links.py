"""One customer across channels, as the order actions see it: prove an order once on the web
widget, and neither the widget nor WhatsApp asks for the email again (real reference shop)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ActionCheckOrderStatus, ValidateOrderStatusForm
from borderless.customers.identities import CustomerLinks, IdentityStore
from borderless.services import Services

WIDGET_SESSION = "0123456789abcdef0123456789abcdef"
ANNA_EMAIL = "anna.schmidt@example.de"


@pytest.fixture
def linked_services(services: Services, tmp_path: Path) -> Iterator[Services]:
    store = IdentityStore(f"sqlite:///{tmp_path / 'handoff.db'}")
    services._customer_links = CustomerLinks(store, services.desk)
    yield services
    store.dispose()


def tracker_on(
    domain: dict[str, Any],
    channel: str,
    sender: str,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    values = {name: spec.get("initial_value") for name, spec in domain["slots"].items()}
    values.update(slots)
    message = {
        "intent": {"name": "inform"},
        "entities": [],
        "text": "BL-10001",
        "metadata": metadata or {},
    }
    return Tracker(
        sender_id=sender,
        slots=values,
        latest_message=message,
        events=[{"event": "user", "text": "BL-10001", "input_channel": channel,
                 "metadata": metadata or {}}],
        paused=False,
        followup_action=None,
        active_loop={"name": "order_status_form"},
        latest_action_name="action_listen",
    )  # fmt: skip


async def extract(services: Services, tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any]:
    form = ValidateOrderStatusForm(services=services)
    return await form.extract_order_contact(CollectingDispatcher(), tracker, domain)


async def test_proved_on_the_widget_then_not_asked_again_on_widget_or_whatsapp(
    linked_services: Services, domain: dict[str, Any], shop_orders: dict[str, Any]
) -> None:
    widget = tracker_on(domain, "socketio", WIDGET_SESSION, order_number="BL-10001")
    assert await extract(linked_services, widget, domain) == {}  # not proven yet: asked

    proven = tracker_on(
        domain, "socketio", WIDGET_SESSION, order_number="BL-10001", order_contact=ANNA_EMAIL
    )
    dispatcher = CollectingDispatcher()
    events = await ActionCheckOrderStatus(services=linked_services).run(dispatcher, proven, domain)
    assert SlotSet("verified_order", "BL-10001") in events

    # Anna's other order, same widget session, later: the email is not asked for again.
    assert await extract(linked_services, widget, domain) == {"order_contact": ANNA_EMAIL}

    # On WhatsApp from the phone on the order she proved: she is Anna, the email is known.
    phone = shop_orders["BL-10001"]["phone"]
    whatsapp = tracker_on(
        domain, "whatsapp", phone.lstrip("+"), {"phone": phone}, order_number="BL-10001"
    )
    assert await extract(linked_services, whatsapp, domain) == {"order_contact": ANNA_EMAIL}
    links = await linked_services.customer_links().linked_conversations(WIDGET_SESSION)
    assert [(c.channel, c.order_number) for c in links] == [("socketio", "BL-10001")]
    await linked_services.desk.close()


async def test_after_a_failed_lookup_the_customer_is_asked(
    linked_services: Services, domain: dict[str, Any], shop_orders: dict[str, Any]
) -> None:
    phone = shop_orders["BL-10001"]["phone"]
    whatsapp = tracker_on(
        domain, "whatsapp", phone.lstrip("+"), {"phone": phone}, order_number="BL-10002",
        verification_failures=1,
    )  # fmt: skip
    assert await extract(linked_services, whatsapp, domain) == {}


async def test_rest_conversations_are_not_linked(
    linked_services: Services, domain: dict[str, Any]
) -> None:
    rest = tracker_on(
        domain, "rest", WIDGET_SESSION, order_number="BL-10001", order_contact=ANNA_EMAIL
    )
    await ActionCheckOrderStatus(services=linked_services).run(CollectingDispatcher(), rest, domain)
    assert await linked_services.customer_links().linked_conversations(WIDGET_SESSION) == []
    await linked_services.desk.close()
