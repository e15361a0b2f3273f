"""What the return, refund, cancel and address forms share: proving the order is the customer's.

Each form starts with the order number and the email or phone, validated like the order-status
form, then verified with the order system before anything else is asked. An order proven
earlier in the conversation (``verified_order`` + ``verified_contact``) is not asked again. The
verification also decides whether the rest of the form makes sense: no address is asked for an
order that has already shipped. The outcome is the ``order_check`` slot, ``<form>:<code>``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import UsesServices, verified_phone
from borderless.commerce.contact import find_contact
from borderless.commerce.errors import BackendError, OrderNotFound
from borderless.commerce.models import OrderLookup

# After this many lookups that matched no order, the customer is offered a person.
MAX_FAILED_VERIFICATIONS = 3
IDENTITY_SLOTS = ["order_number", "order_contact"]


def order_check(tracker: Tracker, form: str) -> str | None:
    """The verification outcome of ``form`` in this conversation, if it has one."""
    value = tracker.get_slot("order_check") or ""
    prefix = f"{form}:"
    return value[len(prefix) :] if value.startswith(prefix) else None


def verified_lookup(tracker: Tracker) -> OrderLookup | None:
    """The order the customer proved is theirs, as a lookup the order system re-verifies."""
    number = tracker.get_slot("verified_order")
    contact = find_contact(tracker.get_slot("verified_contact") or "")
    if not number or contact.value is None:
        return None
    return OrderLookup(number=number, email=contact.email, phone=contact.phone)


class ValidatesOrderIdentity(UsesServices):
    """The order number and the email or phone, validated alike in every order form."""

    def validate_order_number(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        number = self.services.order_numbers.find(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_invalid_order_number")
        return {"order_number": number}

    def validate_order_contact(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        contact = find_contact(str(value or ""))
        if contact.value is None:
            dispatcher.utter_message(response="utter_invalid_contact")
        return {"order_contact": contact.value}


class VerifiedOrderForm(ValidatesOrderIdentity, FormValidationAction, ABC):
    # The slots asked after the order is verified and found fit for this flow.
    flow_slots: tuple[str, ...] = ()

    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    async def check(self, lookup: OrderLookup) -> tuple[str, list[EventType]]:
        """``("ok", events)`` when the flow can go on, else a code the final action explains.

        Raises ``OrderNotFound`` / ``BackendError`` like the order system.
        """

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        check = order_check(tracker, self.form_name())
        if check is None:
            return list(IDENTITY_SLOTS)
        if check != "ok":
            return []  # ends the form; the final action says why
        return [*IDENTITY_SLOTS, *self.flow_slots]

    # An order proven earlier in the conversation is taken as given, but only when the form
    # starts (nothing requested yet) and the customer did not name another order.
    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("order_number") or tracker.get_slot("requested_slot"):
            return {}
        verified = tracker.get_slot("verified_order")
        return {"order_number": verified} if verified else {}

    async def extract_order_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("order_contact"):
            return {}
        number = tracker.get_slot("order_number")
        contact = tracker.get_slot("verified_contact")
        if (
            contact
            and number
            and number == tracker.get_slot("verified_order")
            and not tracker.get_slot("requested_slot")
        ):
            return {"order_contact": contact}
        phone = verified_phone(tracker)
        return {"order_contact": phone} if phone else {}

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_validation_events(dispatcher, tracker, domain)
        changed = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        number = changed.get("order_number", tracker.get_slot("order_number"))
        contact = changed.get("order_contact", tracker.get_slot("order_contact"))
        fresh = "order_number" in changed or "order_contact" in changed
        if not (number and contact):
            return events
        if not fresh and order_check(tracker, self.form_name()) is not None:
            return events
        return [*events, *await self._verify(number, contact, dispatcher, tracker)]

    async def _verify(
        self, number: str, contact_text: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[EventType]:
        form = self.form_name()
        contact = find_contact(contact_text)
        lookup = OrderLookup(number=number, email=contact.email, phone=contact.phone)
        try:
            code, extra = await self.check(lookup)
        except OrderNotFound:
            failures = int(tracker.get_slot("verification_failures") or 0) + 1
            dispatcher.utter_message(response="utter_order_not_found")
            events: list[EventType] = [SlotSet("verification_failures", failures)]
            if failures >= MAX_FAILED_VERIFICATIONS:
                dispatcher.utter_message(response="utter_offer_human")
                return [*events, SlotSet("order_check", f"{form}:not_found")]
            return [*events, SlotSet("order_number", None), SlotSet("order_contact", None)]
        except BackendError:
            dispatcher.utter_message(response="utter_backend_error")
            return [SlotSet("order_check", f"{form}:backend_error")]
        return [
            SlotSet("verified_order", number),
            SlotSet("verified_contact", contact.value),
            SlotSet("verification_failures", 0),
            SlotSet("order_check", f"{form}:{code}"),
            *extra,
        ]


# What every flow clears when it is over, so the next question starts afresh. The proven order
# (verified_order, verified_contact) stays for the rest of the conversation. A change waiting
# for its "yes" is dropped too: a yes meant for another question must never execute it (the
# review actions set it again after this).
FLOW_SLOTS = [
    "order_number",
    "order_contact",
    "order_check",
    "return_items",
    "return_reason",
    "return_options",
    "pending_change",
]


def flow_done() -> list[EventType]:
    return [SlotSet(name, None) for name in FLOW_SLOTS]
