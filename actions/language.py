"""Keeps the ``language`` slot: channel hint, then confident detection, then what it was."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from borderless.i18n.language import choose_language


class ActionDetectLanguage(Action):
    """The ``language`` slot's custom mapping; runs on every user message."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        current = tracker.get_slot("language")
        # Written by borderless.nlu.language.LanguageDetector; absent if the detector did not run.
        detection = tracker.latest_message.get("language_detection")
        language = choose_language(current, detection)
        return [] if language == current else [SlotSet("language", language)]
