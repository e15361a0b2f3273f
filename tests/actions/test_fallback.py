"""Not understood: why, and a person after two misunderstandings in a row."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import ActionNotUnderstood
from tests.actions.conftest import make_tracker, responses


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


async def test_first_misunderstanding_asks_to_rephrase(domain: dict[str, Any]) -> None:
    tracker = make_tracker(domain)
    tracker.events = [user("greet"), user("nlu_fallback")]
    dispatcher = CollectingDispatcher()
    assert await ActionNotUnderstood().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_default"]


async def test_second_in_a_row_goes_to_a_person(domain: dict[str, Any]) -> None:
    tracker = make_tracker(domain)
    tracker.events = [user("nlu_fallback"), user("nlu_fallback")]
    dispatcher = CollectingDispatcher()
    events = await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert events == [FollowupAction("action_handoff")]
    assert responses(dispatcher) == []


async def test_an_unsupported_language_gets_the_list(domain: dict[str, Any]) -> None:
    tracker = make_tracker(domain)
    tracker.latest_message = {"language_detection": {"unsupported": True}}
    dispatcher = CollectingDispatcher()
    await ActionNotUnderstood().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_unsupported_language"]
    assert "日本語" in dispatcher.messages[0]["languages"]
