"""What the bot says when it did not understand: why, if it knows (an unsupported language),
and a person after the second misunderstanding in a row."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import conversation_language
from borderless.i18n.formatting import language_list, locale_for
from borderless.i18n.language import SUPPORTED_LANGUAGES


class ActionNotUnderstood(Action):
    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if _previous_intent(tracker) == FALLBACK:
            # Twice in a row: rephrasing again will not help; a person will.
            return [FollowupAction("action_handoff")]
        detection = tracker.latest_message.get("language_detection") or {}
        if detection.get("unsupported"):
            locale = locale_for(conversation_language(tracker))
            languages = language_list(SUPPORTED_LANGUAGES, locale)
            dispatcher.utter_message(response="utter_unsupported_language", languages=languages)
        else:
            dispatcher.utter_message(response="utter_default")
        return []


FALLBACK = "nlu_fallback"


def _previous_intent(tracker: Tracker) -> str | None:
    """The intent of the user message before the latest one."""
    users = [e for e in tracker.events if e.get("event") == "user"]
    if len(users) < 2:
        return None
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name")
