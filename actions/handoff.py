"""Handing a conversation to a person."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction


class ActionHandoff(BorderlessAction):
    """Until the handoff desk exists: tell the customer honestly how to reach a person."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_handoff", support_email=self.services.settings.support_email
        )
        return [SlotSet("verification_failures", 0)]
