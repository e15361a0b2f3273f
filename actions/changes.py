"""Cancelling an order and changing its delivery address: only before it ships, only on "yes".

Both flows verify the order (form), restate what will happen and ask for confirmation
(``action_review_*`` sets ``pending_change``); only an ``affirm`` right after that runs
``action_confirm_change``, which does exactly what was restated and nothing else.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, conversation_language
from actions.verified_forms import VerifiedOrderForm, flow_done, order_check, verified_lookup
from borderless.commerce.errors import BackendError, ChangeRefused, OrderNotFound
from borderless.commerce.models import OrderLookup, OrderStatus
from borderless.i18n.aftersales_replies import (
    Reply,
    address_confirmation,
    cancel_confirmation,
    cancelled,
    change_refused,
)

# An address shorter than this cannot hold a street, a postcode and a city.
MIN_ADDRESS_CHARS = 8
MAX_ADDRESS_CHARS = 500


def _end(extra: list[EventType] | None = None) -> list[EventType]:
    return [
        *flow_done(),
        SlotSet("new_address", None),
        SlotSet("pending_change", None),
        *(extra or []),
    ]


class ValidateCancelForm(VerifiedOrderForm):
    def name(self) -> str:
        return "validate_cancel_form"

    async def check(self, lookup: OrderLookup) -> tuple[str, list[EventType]]:
        await self.services.aftersales.verify(lookup)
        return "ok", []


class ValidateAddressForm(VerifiedOrderForm):
    flow_slots = ("new_address",)

    def name(self) -> str:
        return "validate_address_form"

    async def check(self, lookup: OrderLookup) -> tuple[str, list[EventType]]:
        # Asking for a whole address and only then saying "too late" would waste the
        # customer's time: a shipped order ends the form here.
        try:
            await self.services.aftersales.check_change(lookup)
        except ChangeRefused as refused:
            return refused.code, []
        return "ok", []

    def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        address = " ".join(str(value or "").split())
        if len(address) < MIN_ADDRESS_CHARS or len(address) > MAX_ADDRESS_CHARS:
            dispatcher.utter_message(response="utter_address_incomplete")
            return {"new_address": None}
        return {"new_address": str(value).strip()}


class _ReviewChange(BorderlessAction):
    kind = ""

    def _say(self, dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
        for reply in replies:
            dispatcher.utter_message(response=reply.response, **reply.args)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lookup = verified_lookup(tracker)
        check = order_check(tracker, f"{self.kind}_form")
        if lookup is None or check in (None, "not_found", "backend_error"):
            return _end()  # the form already said what went wrong
        try:
            review = await self.services.aftersales.review_change(lookup)
        except OrderNotFound:
            dispatcher.utter_message(response="utter_order_not_found")
            return _end()
        except BackendError:
            dispatcher.utter_message(response="utter_backend_error")
            return _end()
        order = review.order
        if review.refused:
            self._say(
                dispatcher, change_refused(self.kind, review.refused, order.number, review.market)
            )
            return _end()
        language = conversation_language(tracker)
        if self.kind == "cancel":
            self._say(dispatcher, cancel_confirmation(order, language))
        else:
            self._say(dispatcher, address_confirmation(order, tracker.get_slot("new_address")))
        paid = "paid" if order.status is OrderStatus.PROCESSING else "unpaid"
        return [*flow_done(), SlotSet("pending_change", f"{self.kind}:{order.number}:{paid}")]


class ActionReviewCancellation(_ReviewChange):
    kind = "cancel"

    def name(self) -> str:
        return "action_review_cancellation"


class ActionReviewAddressChange(_ReviewChange):
    kind = "address"

    def name(self) -> str:
        return "action_review_address_change"


class ActionConfirmChange(BorderlessAction):
    """The customer said yes to the restated change: do it, for the order that was restated."""

    def name(self) -> str:
        return "action_confirm_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = str(tracker.get_slot("pending_change") or "")
        kind, _, rest = pending.partition(":")
        number, _, paid = rest.partition(":")
        lookup = verified_lookup(tracker)
        if not pending or lookup is None or lookup.number != number:
            dispatcher.utter_message(response="utter_what_else")
            return _end()
        aftersales = self.services.aftersales
        language = conversation_language(tracker)
        try:
            if kind == "cancel":
                order = await aftersales.cancel(lookup)
                replies = cancelled(order, paid == "paid", language)
            else:
                address = str(tracker.get_slot("new_address") or "")
                order = await aftersales.change_address(lookup, address)
                replies = [
                    Reply(
                        "utter_address_changed",
                        {"order_number": order.number, "new_address": address},
                    )
                ]
        except ChangeRefused as refused:
            market = aftersales.policy.market_for("")
            replies = change_refused(kind, refused.code, number, market)
        except OrderNotFound:
            replies = [Reply("utter_order_not_found")]
        except BackendError:
            replies = [Reply("utter_backend_error")]
        for reply in replies:
            dispatcher.utter_message(response=reply.response, **reply.args)
        dispatcher.utter_message(response="utter_anything_else")
        return _end()


class ActionDropChange(BorderlessAction):
    def name(self) -> str:
        return "action_drop_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending = str(tracker.get_slot("pending_change") or "")
        number = pending.split(":")[1] if pending.count(":") >= 1 else ""
        if number:
            dispatcher.utter_message(response="utter_change_kept", order_number=number)
        else:
            dispatcher.utter_message(response="utter_no_problem")
        return _end()
