"""What the bot says when it did not understand: why, if it knows (an unsupported language)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
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
        detection = tracker.latest_message.get("language_detection") or {}
        if detection.get("unsupported"):
            locale = locale_for(conversation_language(tracker))
            languages = language_list(SUPPORTED_LANGUAGES, locale)
            dispatcher.utter_message(response="utter_unsupported_language", languages=languages)
        else:
            dispatcher.utter_message(response="utter_default")
        return []
