"""Where is my order: the form that collects number and contact, and the status answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, UsesServices, conversation_language
from borderless.commerce.contact import find_contact
from borderless.commerce.errors import BackendError, OrderNotFound
from borderless.commerce.models import OrderLookup
from borderless.i18n.order_replies import order_status_replies

# After this many lookups that matched no order, the customer is offered a person.
MAX_FAILED_VERIFICATIONS = 3


class ValidateOrderStatusForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_order_status_form"

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

    async def extract_order_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """On WhatsApp the sender's number is known: an order placed with it needs no email."""
        if tracker.get_slot("order_contact"):
            return {}
        phone = (tracker.latest_message.get("metadata") or {}).get("phone")
        return {"order_contact": phone} if phone else {}

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


class ActionCheckOrderStatus(BorderlessAction):
    def name(self) -> str:
        return "action_check_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        # The slots are cleared whatever happens, so the next question starts afresh.
        events: list[EventType] = [SlotSet("order_number", None), SlotSet("order_contact", None)]
        number = tracker.get_slot("order_number")
        contact = find_contact(tracker.get_slot("order_contact") or "")
        if not number or contact.value is None:
            dispatcher.utter_message(response="utter_order_not_found")
            return events
        lookup = OrderLookup(number=number, email=contact.email, phone=contact.phone)
        try:
            report = await self.services.desk.report(lookup)
        except OrderNotFound:
            return [*events, *self._not_found(dispatcher, tracker)]
        except BackendError:
            dispatcher.utter_message(response="utter_backend_error")
            return events
        for reply in order_status_replies(report, conversation_language(tracker)):
            dispatcher.utter_message(response=reply.response, **reply.args)
        dispatcher.utter_message(response="utter_anything_else")
        return [
            *events,
            SlotSet("verified_order", report.order.number),
            # So a return, cancellation or address change of this order is not asked again
            # (actions/verified_forms.py); the order system re-verifies every change with it.
            SlotSet("verified_contact", contact.value),
            SlotSet("verification_failures", 0),
        ]

    @staticmethod
    def _not_found(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        dispatcher.utter_message(response="utter_order_not_found")
        if failures >= MAX_FAILED_VERIFICATIONS:
            dispatcher.utter_message(response="utter_offer_human")
        return [SlotSet("verification_failures", failures)]
