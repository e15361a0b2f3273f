"""Conversation repair: "start over" forgets what the customer was asking, not who they are."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Kept across a restart: the language, a proven order (with the contact that proved it and its
# VIP facts), the failed-verification count (else a restart would grant new guesses) and a
# person's open ticket.
KEPT_SLOTS = frozenset(
    {
        "language",
        "verified_order",
        "verified_contact",
        "verified_order_facts",
        "verification_failures",
        "handoff_ticket",
    }
)


class ActionStartOver(Action):
    def name(self) -> str:
        return "action_start_over"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = []
        if (tracker.active_loop or {}).get("name"):
            events.append(ActiveLoop(None))
        for name, spec in (domain.get("slots") or {}).items():
            if name in KEPT_SLOTS:
                continue
            initial = (spec or {}).get("initial_value")
            if tracker.get_slot(name) != initial:
                events.append(SlotSet(name, initial))
        if tracker.get_slot("requested_slot") is not None and "requested_slot" not in (
            domain.get("slots") or {}
        ):
            events.append(SlotSet("requested_slot", None))
        dispatcher.utter_message(response="utter_start_over")
        return events
