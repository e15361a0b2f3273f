"""What the bot says when it did not understand: why, if it knows (an unsupported language);
otherwise the two most likely meanings as buttons ("Did you mean…?", Rasa's two-stage
fallback); and a person after the second misunderstanding in a row."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import UsesServices, conversation_language
from borderless.i18n.formatting import language_list, locale_for
from borderless.i18n.language import SUPPORTED_LANGUAGES

FALLBACK = "nlu_fallback"
# An intent can be offered as a button when the domain has a label for it: utter_label_<intent>.
LABEL_PREFIX = "utter_label_"
OTHER_LABEL = "utter_label_something_else"
# Clicking "something else" sends /deny; the bot then asks to rephrase (data/rules/repair.yml).
OTHER_PAYLOAD = "/deny"
REPHRASE = "utter_ask_rephrase"
MAX_CHOICES = 2


class ActionNotUnderstood(UsesServices, Action):
    def name(self) -> str:
        return "action_not_understood"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if _failed_before(tracker):
            # Twice in a row: rephrasing again will not help; a person will.
            return [FollowupAction("action_handoff")]
        language = conversation_language(tracker)
        detection = tracker.latest_message.get("language_detection") or {}
        if detection.get("unsupported"):
            languages = language_list(SUPPORTED_LANGUAGES, locale_for(language))
            dispatcher.utter_message(response="utter_unsupported_language", languages=languages)
            return []
        responses = domain.get("responses") or {}
        choices = likely_intents(tracker.latest_message, responses)
        if not choices:
            dispatcher.utter_message(response="utter_default")
            return []
        buttons = [self._button(language, intent, responses) for intent in choices]
        other = self._label(language, OTHER_LABEL, responses)
        buttons.append({"title": other, "payload": OTHER_PAYLOAD})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=buttons)
        return []

    def _button(self, language: str, intent: str, responses: dict[str, Any]) -> dict[str, str]:
        title = self._label(language, f"{LABEL_PREFIX}{intent}", responses)
        return {"title": title, "payload": f"/{intent}"}

    def _label(self, language: str, name: str, responses: dict[str, Any]) -> str:
        english = str(((responses.get(name) or [{}])[0]).get("text") or name)
        return self.services.catalogs.translate(language, name, english)


def likely_intents(message: dict[str, Any], responses: dict[str, Any]) -> list[str]:
    """The classifier's best guesses that the customer can be asked about, most likely first."""
    ranking = message.get("intent_ranking") or []
    choices: list[str] = []
    for entry in ranking:
        name = entry.get("name")
        if name and name != FALLBACK and f"{LABEL_PREFIX}{name}" in responses:
            choices.append(name)
        if len(choices) == MAX_CHOICES:
            break
    return choices


def _failed_before(tracker: Tracker) -> bool:
    """Was the previous message not understood either (or "none of these" to our guesses)?"""
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if len(users) < 2:
        return False
    previous = tracker.events[users[-2]]
    if ((previous.get("parse_data") or {}).get("intent") or {}).get("name") == FALLBACK:
        return True
    between = tracker.events[users[-2] : users[-1]]
    return any(e.get("event") == "action" and e.get("name") == REPHRASE for e in between)
