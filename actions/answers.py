"""Answers from the shop's configuration and catalog: products, payment problems, warranty, and
short answers to a side question while a form waits for its answer (a digression)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, UsesServices, asked_text, conversation_language
from borderless.i18n.answer_replies import (
    duties_replies,
    market_warranty_replies,
    payment_replies,
    product_replies,
)
from borderless.i18n.order_replies import Reply
from borderless.i18n.shipping_replies import shipping_replies
from borderless.services import Services

PRODUCT_QUESTION = ("product_question",)
PAYMENT_PROBLEM = ("payment_problem",)
SHIPPING_QUESTIONS = ("shipping_time", "shipping_cost")


def _say(dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
    for reply in replies:
        dispatcher.utter_message(response=reply.response, **reply.args)


class ValidateProductForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_product_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """A warranty question is answered per market: no product needed."""
        aspects = self.services.topics.all_of("product", asked_text(tracker, PRODUCT_QUESTION))
        if aspects == ["warranty"]:
            return []
        return domain_slots

    async def validate_product(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        # The gazetteer's entity value is a catalog title; free text that names none is not.
        if await self.services.catalog.find(str(value or "")) is None:
            dispatcher.utter_message(response="utter_product_unknown")
            return {"product": None}
        return {"product": value}


class ActionProductAnswer(BorderlessAction):
    def name(self) -> str:
        return "action_product_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        _say(dispatcher, await _product_answer(self.services, tracker))
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionPaymentAnswer(BorderlessAction):
    def name(self) -> str:
        return "action_payment_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        replies = _payment_answer(self.services, tracker)
        _say(dispatcher, replies)
        if replies[-1].response != "utter_offer_human_payment":
            dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionAnswerAside(BorderlessAction):
    """A side question while a form waits: answered if it can be at once, then the form asks
    again (rules in data/rules/repair.yml); otherwise the customer is told it comes after."""

    def name(self) -> str:
        return "action_answer_aside"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        replies: list[Reply] = []
        if intent in PRODUCT_QUESTION and tracker.get_slot("product"):
            replies = await _product_answer(self.services, tracker)
        elif intent in PAYMENT_PROBLEM:
            replies = _payment_answer(self.services, tracker)
        elif intent in SHIPPING_QUESTIONS and tracker.get_slot("country"):
            replies = _shipping_answer(self.services, tracker, tracker.get_slot("country"))
        if not replies:
            dispatcher.utter_message(response="utter_aside_later")
            return []
        _say(dispatcher, replies)
        dispatcher.utter_message(response="utter_back_to_form")
        return []


async def _product_answer(services: Services, tracker: Tracker) -> list[Reply]:
    language = conversation_language(tracker)
    aspects = services.topics.all_of("product", asked_text(tracker, PRODUCT_QUESTION))
    title = tracker.get_slot("product")
    product = await services.catalog.find(str(title)) if title else None
    if product is None:
        if aspects == ["warranty"]:
            return market_warranty_replies(services.policies, tracker.get_slot("country"), language)
        return [Reply("utter_product_unknown")]
    return product_replies(
        product, aspects, language, tracker.get_slot("country"), services.policies
    )


def _payment_answer(services: Services, tracker: Tracker) -> list[Reply]:
    topic = services.topics.first("payment", asked_text(tracker, PAYMENT_PROBLEM))
    return payment_replies(
        services.policies, topic, conversation_language(tracker), tracker.get_slot("country")
    )


def _shipping_answer(services: Services, tracker: Tracker, country: str) -> list[Reply]:
    language = conversation_language(tracker)
    now = datetime.now(timezone.utc)
    return duties_answer(services, tracker, country) + shipping_replies(
        services.shipping, country, language, now
    )


def duties_answer(services: Services, tracker: Tracker, country: str) -> list[Reply]:
    """Duties and taxes for the country, when the shipping question mentions them."""
    if services.topics.first("shipping", asked_text(tracker, SHIPPING_QUESTIONS)) != "duties":
        return []
    return duties_replies(services.policies, country, conversation_language(tracker))
