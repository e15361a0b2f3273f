"""A new session must not free a conversation that a person still holds."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import BorderlessAction
from borderless.services import HANDOFF_DESKS


class ActionSessionStart(BorderlessAction):
    """Rasa's session start, plus: if a handoff ticket is still with an agent, stay paused.

    When a customer writes after ``session_expiration_time``, Rasa starts a new session and
    ``SessionStarted`` resets the tracker, un-pausing it: the bot would talk over the agent.
    Slots are carried over as Rasa's default does (``carry_over_slots_to_new_session``).
    """

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        events += [
            SlotSet(name, value)
            for name, value in tracker.slots.items()
            if value is not None and name != "requested_slot"
        ]
        if await self._held_by_agent(tracker.get_slot("handoff_ticket")):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events

    async def _held_by_agent(self, ticket_id: str | None) -> bool:
        if not ticket_id or self.services.settings.handoff_desk not in HANDOFF_DESKS:
            return False
        return await self.services.handoff_desk().is_held(ticket_id)
