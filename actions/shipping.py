"""How long and how much to ship to a country."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.answers import duties_answer
from actions.base import BorderlessAction, UsesServices, conversation_language
from borderless.i18n.shipping_replies import shipping_replies


class ValidateShippingForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_shipping_form"

    def validate_country(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        code = self.services.countries.resolve(str(value or ""))
        if code is None:
            dispatcher.utter_message(response="utter_shipping_unknown_country")
        return {"country": code}


class ActionShippingEstimate(BorderlessAction):
    def name(self) -> str:
        return "action_shipping_estimate"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        country = tracker.get_slot("country")
        if not country:
            dispatcher.utter_message(response="utter_shipping_unknown_country")
            return []
        now = datetime.now(timezone.utc)
        language = conversation_language(tracker)
        # "Do I pay customs?" is a shipping-cost question too: duties first, then the prices.
        for reply in duties_answer(self.services, tracker, country):
            dispatcher.utter_message(response=reply.response, **reply.args)
        for reply in shipping_replies(self.services.shipping, country, language, now):
            dispatcher.utter_message(response=reply.response, **reply.args)
        dispatcher.utter_message(response="utter_anything_else")
        return []
