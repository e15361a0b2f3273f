"""Handing over to a person: ticket, routing message, paused conversation."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionHandoff
from borderless.handoff.desk import HandoffDesk, HandoffRequest
from borderless.i18n.handoff_replies import handoff_replies
from borderless.services import Services
from borderless.settings import PROJECT_ROOT, Settings
from tests.actions.conftest import make_tracker, responses

TEAMS = PROJECT_ROOT / "demo" / "teams.yml"
HANDOFF_RESPONSES = {
    "utter_handoff_now",
    "utter_handoff_other_language",
    "utter_handoff_queued",
    "utter_handoff_unavailable",
}


def desk(tmp_path: Path) -> HandoffDesk:
    return HandoffDesk.from_files(TEAMS, f"sqlite:///{tmp_path / 'handoff.db'}")


async def test_console_desk_records_a_ticket_and_pauses(
    tmp_path: Path, domain: dict[str, Any]
) -> None:
    settings = Settings(
        handoff_desk="console", handoff_database_url=f"sqlite:///{tmp_path / 'h.db'}"
    )
    services = Services.from_settings(settings)
    tracker = make_tracker(domain, language="de", verified_order="BL-10001")
    tracker.latest_message = {"intent": {"name": "complaint"}, "text": "Das ist eine Frechheit!"}
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(services=services).run(dispatcher, tracker, domain)
    assert set(responses(dispatcher)) <= HANDOFF_RESPONSES and responses(dispatcher)
    assert ConversationPaused() in events
    ticket_id = next(e["value"] for e in events if e.get("name") == "handoff_ticket")
    ticket = services.handoff_desk().tickets.get(int(ticket_id))
    assert ticket.reason == "complaint" and ticket.language == "de"
    assert ticket.order_number == "BL-10001" and ticket.frustration >= 0.7
    assert ticket.summary["last_message"] == "Das ist eine Frechheit!"


async def test_email_desk_only_tells_how_to_reach_the_team(domain: dict[str, Any]) -> None:
    services = Services.from_settings(Settings(handoff_desk="email"))
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff(services=services).run(dispatcher, make_tracker(domain), domain)
    assert responses(dispatcher) == ["utter_handoff"]
    assert SlotSet("verification_failures", 0) in events
    assert ConversationPaused() not in events


def request(language: str) -> HandoffRequest:
    return HandoffRequest("c-1", "rest", language, "request_human")


def test_in_hours_a_native_team_takes_over(tmp_path: Path) -> None:
    tuesday_10_berlin = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    handover = desk(tmp_path).hand_over(request("de"), tuesday_10_berlin)
    replies = handoff_replies(handover, "de", ZoneInfo("Europe/Berlin"), "s@example.com")
    assert [r.response for r in replies] == ["utter_handoff_now"]
    assert replies[0].args == {"team": "Berlin"}


def test_out_of_hours_the_customer_gets_a_time_in_their_zone(tmp_path: Path) -> None:
    monday_03_tokyo = datetime(2026, 11, 22, 18, 0, tzinfo=timezone.utc)  # Sunday night in the west
    handover = desk(tmp_path).hand_over(request("ja"), monday_03_tokyo)
    replies = handoff_replies(handover, "ja", ZoneInfo("Asia/Tokyo"), "s@example.com")
    assert [r.response for r in replies] == ["utter_handoff_queued"]
    # Monday 23 November is Labour Thanksgiving Day in Japan: Tokyo opens on Tuesday at 10:00.
    assert replies[0].args["reply_by"] == "11月24日(火) 10:00"
    ticket = desk(tmp_path).tickets.get(handover.ticket_id)
    assert ticket.status == "queued" and ticket.team == "Tokyo"


def test_a_language_nobody_speaks_goes_to_english_and_says_so(tmp_path: Path) -> None:
    tuesday_10_berlin = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    handover = desk(tmp_path).hand_over(request("it"), tuesday_10_berlin)
    replies = handoff_replies(handover, "it", ZoneInfo("Europe/Rome"), "s@example.com")
    assert replies[0].response == "utter_handoff_other_language"
    assert replies[0].args["agent_language"] == "English"


async def test_a_new_session_keeps_a_conversation_an_agent_holds_paused(
    tmp_path: Path, domain: dict[str, Any]
) -> None:
    from rasa_sdk.events import SessionStarted

    from actions.session import ActionSessionStart
    from borderless.handoff.tickets import RESOLVED

    settings = Settings(handoff_database_url=f"sqlite:///{tmp_path / 'h.db'}")
    services = Services.from_settings(settings)
    held = services.handoff_desk().hand_over(request("de"), datetime.now(timezone.utc))
    action = ActionSessionStart(services=services)

    tracker = make_tracker(domain, language="de", handoff_ticket=str(held.ticket_id))
    events = await action.run(CollectingDispatcher(), tracker, domain)
    assert events[0] == SessionStarted()
    assert ConversationPaused() in events
    assert SlotSet("language", "de") in events  # slots carried over

    services.handoff_desk().tickets.update_status(held.ticket_id, "assigned", agent="mia")
    services.handoff_desk().tickets.update_status(held.ticket_id, RESOLVED)
    events = await action.run(CollectingDispatcher(), tracker, domain)
    assert ConversationPaused() not in events

    free = make_tracker(domain, language="en")
    assert ConversationPaused() not in await action.run(CollectingDispatcher(), free, domain)


async def test_a_triggered_handoff_carries_its_topic_and_a_vip_ranks_higher(
    tmp_path: Path, domain: dict[str, Any]
) -> None:
    """The NLU trigger's reason and the verified order's facts reach the ticket."""
    settings = Settings(
        handoff_desk="console", handoff_database_url=f"sqlite:///{tmp_path / 'h.db'}"
    )
    services = Services.from_settings(settings)
    tracker = make_tracker(
        domain,
        language="en",
        verified_order="BL-10001",
        verified_order_facts={"total": "420.00", "currency": "EUR", "previous_orders": 0},
    )
    tracker.latest_message = {
        "intent": {"name": "request_human", "confidence": 1.0},
        "text": "I'll file a chargeback",
        "handoff_trigger": {
            "kind": "sensitive",
            "reason": "chargeback",
            "score": 0.0,
            "details": ["matched 'chargeback'"],
        },
    }
    events = await ActionHandoff(services=services).run(CollectingDispatcher(), tracker, domain)
    ticket_id = next(e["value"] for e in events if e.get("name") == "handoff_ticket")
    ticket = services.handoff_desk().tickets.get(int(ticket_id))
    assert ticket.reason == "chargeback" and ticket.vip
    assert ticket.priority >= 500  # sensitive (400) + VIP (100)
    assert ticket.summary["trigger"] == "matched 'chargeback'"
    assert ticket.summary["vip"] == "order value 420.00 EUR"


def test_the_order_facts_slot_is_set_on_verification() -> None:
    from decimal import Decimal

    from actions.orders import verified_order_facts
    from borderless.commerce.models import Order, OrderStatus

    order = Order(
        number="BL-1",
        email="a@example.com",
        phone=None,
        country="DE",
        status=OrderStatus.SHIPPED,
        currency="EUR",
        total=Decimal("12.50"),
        placed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
        shipping_method="standard",
        previous_orders=2,
    )
    facts = verified_order_facts(order)
    assert facts == {"total": "12.50", "currency": "EUR", "previous_orders": 2}
    assert "a@example.com" not in str(facts)  # no contact data in the slot


async def test_a_chatwoot_desk_that_cannot_take_over_leaves_the_bot_talking(
    domain: dict[str, Any], free_port: int
) -> None:
    """Chatwoot down (or a conversation that did not come through it): no silent pause."""
    settings = Settings(handoff_desk="chatwoot", chatwoot_url=f"http://127.0.0.1:{free_port}")
    services = Services.from_settings(settings)
    for sender in ("chatwoot-123", "test-customer"):
        tracker = make_tracker(domain, language="en")
        tracker.sender_id = sender
        dispatcher = CollectingDispatcher()
        events = await ActionHandoff(services=services).run(dispatcher, tracker, domain)
        assert responses(dispatcher) == ["utter_handoff"]
        assert ConversationPaused() not in events
