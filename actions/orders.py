"""Where is my order: the form that collects number and contact, and the status answer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, conversation_language, verified_phone
from actions.verified_forms import MAX_FAILED_VERIFICATIONS, ValidatesOrderIdentity
from borderless.commerce.contact import find_contact
from borderless.commerce.errors import BackendError, OrderNotFound
from borderless.commerce.models import Order, OrderLookup
from borderless.customers.identities import ChannelIdentity
from borderless.i18n.order_replies import order_status_replies


class ValidateOrderStatusForm(ValidatesOrderIdentity, FormValidationAction):
    def name(self) -> str:
        return "validate_order_status_form"

    async def extract_order_contact(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A customer who proved an order on this channel identity before (or, on WhatsApp,
        whose number is on an order they proved anywhere) is not asked again; on WhatsApp the
        sender's number is known: an order placed with it needs no email. After a failed
        lookup the customer is asked, so they can give another contact."""
        if tracker.get_slot("order_contact") or tracker.get_slot("verification_failures"):
            return {}
        contact = await self.services.customer_links().known_contact(
            who(tracker), verified_phone(tracker)
        )
        return {"order_contact": contact} if contact else {}


def verified_order_facts(order: Order) -> dict[str, Any]:
    return {
        "total": str(order.total),
        "currency": order.currency,
        "previous_orders": order.previous_orders,
    }


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
            # Verifies, and links this channel identity to the order's customer.
            report = await self.services.customer_links().report(lookup, who(tracker))
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
            # What the handoff's VIP rule needs later (demo/handoff_rules.yml); no contact data.
            SlotSet("verified_order_facts", verified_order_facts(report.order)),
        ]

    @staticmethod
    def _not_found(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        failures = int(tracker.get_slot("verification_failures") or 0) + 1
        dispatcher.utter_message(response="utter_order_not_found")
        if failures >= MAX_FAILED_VERIFICATIONS:
            dispatcher.utter_message(response="utter_offer_human")
        return [SlotSet("verification_failures", failures)]


def who(tracker: Tracker) -> ChannelIdentity:
    """The channel identity writing: Rasa's sender id on the latest message's channel."""
    return ChannelIdentity(tracker.get_latest_input_channel() or "", tracker.sender_id)
