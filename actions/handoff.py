"""Handing a conversation to a person, and taking it back."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction, conversation_language
from borderless.handoff.chatwoot import ChatwootError
from borderless.handoff.desk import HandoffRequest
from borderless.handoff.frustration import frustration
from borderless.handoff.triggers import TRIGGER_ATTRIBUTE, Trigger
from borderless.i18n.formatting import country_timezone, locale_for
from borderless.i18n.handoff_replies import handoff_replies
from borderless.services import HANDOFF_DESKS

logger = logging.getLogger(__name__)

# How much of the conversation the ticket summarizes for the agent.
RECENT_TURNS = 5


class ActionHandoff(BorderlessAction):
    """Routes to the team on duty for the customer's language, or queues with an honest time.

    With the console desk the conversation is paused: the bot stays silent while the agent
    works and the customer's messages keep arriving in the console. Without it, the customer
    is told how to reach the team by email.
    """

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        settings = self.services.settings
        if settings.handoff_desk not in HANDOFF_DESKS:
            dispatcher.utter_message(response="utter_handoff", support_email=settings.support_email)
            return [SlotSet("verification_failures", 0)]
        language = conversation_language(tracker)
        request = handoff_request(tracker, language)
        desk = self.services.handoff_desk()
        try:
            handover = await desk.hand_over_async(request, datetime.now(timezone.utc))
        except (ChatwootError, ValueError):
            # Chatwoot refused, or this conversation did not come through it: say how to reach
            # the team rather than pausing a bot nobody will take over from.
            logger.exception("handoff to %s failed", settings.handoff_desk)
            dispatcher.utter_message(response="utter_handoff", support_email=settings.support_email)
            return [SlotSet("verification_failures", 0)]
        customer_tz = country_timezone(locale_for(language).territory)
        for reply in handoff_replies(handover, language, customer_tz, settings.support_email):
            dispatcher.utter_message(response=reply.response, **reply.args)
        return [
            SlotSet("handoff_ticket", str(handover.ticket_id)),
            SlotSet("verification_failures", 0),
            ConversationPaused(),
        ]


def handoff_request(tracker: Tracker, language: str) -> HandoffRequest:
    """The facts an agent needs in ten seconds, taken from the tracker."""
    user_turns = [e for e in tracker.events if e.get("event") == "user"][-RECENT_TURNS:]
    intents = [str((e.get("parse_data") or {}).get("intent", {}).get("name")) for e in user_turns]
    entities: list[dict[str, Any]] = [
        {"entity": x.get("entity"), "value": x.get("value")}
        for e in user_turns
        for x in (e.get("parse_data") or {}).get("entities", [])
    ]
    intent = (tracker.latest_message.get("intent") or {}).get("name") or "request_human"
    # A sensitive topic or a frustrated message handed over by itself (NLU handoff triggers):
    # the topic (or "frustration") is the reason, the rest says why.
    trigger = Trigger.from_dict(tracker.latest_message.get(TRIGGER_ATTRIBUTE))
    reason = trigger.reason if trigger else intent
    verified = tracker.get_slot("verified_order")
    texts = [str(e.get("text") or "") for e in user_turns]
    mood = frustration(texts, language, complained=intent == "complaint")
    total, currency, previous = _order_facts(tracker.get_slot("verified_order_facts"), verified)
    summary: dict[str, Any] = {
        "reason": reason,
        "language": language,
        "verified_order": verified,
        "failed_verifications": int(tracker.get_slot("verification_failures") or 0),
        "last_message": str(tracker.latest_message.get("text") or "")[:500],
        "frustration": ", ".join(mood.reasons) or "none",
    }
    if trigger:
        summary["trigger"] = "; ".join(trigger.details) or trigger.kind
    return HandoffRequest(
        conversation_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "rest",
        language=language,
        reason=str(reason),
        order_number=verified,
        frustration=max(mood.score, trigger.score if trigger else 0.0),
        last_intents=intents,
        entities=entities,
        summary=summary,
        order_total=total,
        order_currency=currency,
        previous_orders=previous,
    )


def _order_facts(facts: Any, verified: str | None) -> tuple[Decimal | None, str | None, int | None]:
    """Total, currency and earlier orders of the verified order (slot set by the order flow)."""
    if not verified or not isinstance(facts, dict):
        return None, None, None
    try:
        total = Decimal(str(facts["total"])) if facts.get("total") is not None else None
    except InvalidOperation:
        total = None
    previous = facts.get("previous_orders")
    currency = facts.get("currency")
    return (
        total,
        str(currency) if currency else None,
        int(previous) if isinstance(previous, int | float) else None,
    )
