"""Returns and refunds: the return form (order, items, reason), the request, the refund status."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, conversation_language
from actions.verified_forms import VerifiedOrderForm, flow_done, order_check, verified_lookup
from borderless.commerce.aftersales import REASONS
from borderless.commerce.errors import BackendError, ChangeRefused, OrderNotFound
from borderless.commerce.models import OrderLookup, ReturnLine
from borderless.commerce.returns import choose_items
from borderless.i18n.aftersales_replies import (
    item_list,
    refund_status_replies,
    return_created_replies,
    return_refusal_replies,
)
from borderless.i18n.formatting import locale_for

# A free-text reason longer than this is cut before it is stored as the note.
MAX_NOTE_CHARS = 500


def _options(tracker: Tracker) -> list[ReturnLine]:
    return [
        ReturnLine(str(o["sku"]), str(o["title"]), int(o["quantity"]))
        for o in tracker.get_slot("return_options") or []
        if isinstance(o, dict)
    ]


class ValidateReturnForm(VerifiedOrderForm):
    flow_slots = ("return_items", "return_reason")

    def name(self) -> str:
        return "validate_return_form"

    async def check(self, lookup: OrderLookup) -> tuple[str, list[EventType]]:
        result = await self.services.aftersales.check_return(lookup)
        if not result.ok:
            return result.verdict.value, []
        options = [
            {"sku": line.sku, "title": line.title, "quantity": line.quantity}
            for line in result.returnable
        ]
        events: list[EventType] = [SlotSet("return_options", options)]
        if len(options) == 1:  # nothing to choose
            events.append(SlotSet("return_items", [options[0]["sku"]]))
        return "ok", events

    def validate_return_items(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        options = _options(tracker)
        if isinstance(value, list):  # already chosen (a single returnable line)
            return {"return_items": value}
        chosen = choose_items(str(value or ""), options)
        if not chosen:
            locale = locale_for(conversation_language(tracker))
            dispatcher.utter_message(
                response="utter_return_items_unknown", items=item_list(options, locale)
            )
            return {"return_items": None}
        return {"return_items": [line.sku for line in chosen]}

    def validate_return_reason(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        if not text:
            return {"return_reason": None}
        # A button gives a reason code; anything typed is kept, as typed, for the team.
        return {"return_reason": text[:MAX_NOTE_CHARS]}


class ActionAskReturnItems(BorderlessAction):
    """Lists what can be returned, one button per line and one for everything."""

    def name(self) -> str:
        return "action_ask_return_items"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        options = _options(tracker)
        locale = locale_for(conversation_language(tracker))
        dispatcher.utter_message(
            response="utter_ask_return_items",
            items=item_list(options, locale),
            buttons=[
                {"title": line.title, "payload": "/inform" + json.dumps({"product": line.title})}
                for line in options
            ],
        )
        return []


class ActionSubmitReturn(BorderlessAction):
    def name(self) -> str:
        return "action_submit_return"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = flow_done()
        lookup = verified_lookup(tracker)
        check = order_check(tracker, "return_form")
        if lookup is None or check in (None, "not_found", "backend_error"):
            return done  # the form already said what went wrong
        reason = str(tracker.get_slot("return_reason") or "other")
        code, note = (reason, None) if reason in REASONS else ("other", reason)
        items = tracker.get_slot("return_items")
        skus = [str(s) for s in items] if isinstance(items, list) else None
        language = conversation_language(tracker)
        try:
            outcome = await self.services.aftersales.request_return(lookup, skus, code, note)
        except OrderNotFound:
            dispatcher.utter_message(response="utter_order_not_found")
            return done
        except ChangeRefused:
            dispatcher.utter_message(response="utter_return_already_requested")
            return done
        except BackendError:
            dispatcher.utter_message(response="utter_backend_error")
            return done
        if outcome.request is None:
            replies = return_refusal_replies(outcome.eligibility, language)
        else:
            replies = return_created_replies(outcome, language)
        for reply in replies:
            dispatcher.utter_message(response=reply.response, **reply.args)
        dispatcher.utter_message(response="utter_anything_else")
        return done


class ValidateRefundForm(VerifiedOrderForm):
    def name(self) -> str:
        return "validate_refund_form"

    async def check(self, lookup: OrderLookup) -> tuple[str, list[EventType]]:
        await self.services.aftersales.verify(lookup)
        return "ok", []


class ActionRefundStatus(BorderlessAction):
    def name(self) -> str:
        return "action_refund_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        done = flow_done()
        lookup = verified_lookup(tracker)
        if lookup is None or order_check(tracker, "refund_form") != "ok":
            return done
        aftersales = self.services.aftersales
        try:
            report = await aftersales.refund_status(lookup)
        except OrderNotFound:
            dispatcher.utter_message(response="utter_order_not_found")
            return done
        except BackendError:
            dispatcher.utter_message(response="utter_backend_error")
            return done
        market = aftersales.policy.market_for(report.order.country)
        for reply in refund_status_replies(report, market, conversation_language(tracker)):
            dispatcher.utter_message(response=reply.response, **reply.args)
        dispatcher.utter_message(response="utter_anything_else")
        return done
