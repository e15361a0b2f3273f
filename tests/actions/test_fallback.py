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


def parsed(ranking: list[tuple[str, float]]) -> dict[str, Any]:
    return {
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}]
        + [{"name": name, "confidence": confidence} for name, confidence in ranking],
        "text": "hmm",
    }


async def test_first_misunderstanding_offers_the_two_likeliest_meanings(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(domain, language="de")
    tracker.events = [user("greet"), user("nlu_fallback")]
    tracker.latest_message = parsed(
        [("inform", 0.25), ("order_status", 0.2), ("shipping_cost", 0.15), ("refund_status", 0.1)]
    )
    dispatcher = CollectingDispatcher()
    assert await ActionNotUnderstood().run(dispatcher, tracker, domain) == []
    assert responses(dispatcher) == ["utter_did_you_mean"]
    buttons = dispatcher.messages[0]["buttons"]
    # inform has no label (it is not a question one can be asked about); the rest localized.
    assert [b["payload"] for b in buttons] == ["/order_status", "/shipping_cost", "/deny"]
    titles = [b["title"] for b in buttons]
    assert titles == ["Wo ist mein Paket?", "Versand und Zoll", "Etwas anderes"]


async def test_none_of_these_then_still_not_understood_goes_to_a_person(
    domain: dict[str, Any],
) -> None:
    tracker = make_tracker(domain)
    tracker.events = [
        user("nlu_fallback"),
        {"event": "action", "name": "action_not_understood"},
        user("deny"),
        {"event": "action", "name": "utter_ask_rephrase"},
        user("nlu_fallback"),
    ]
    tracker.latest_message = parsed([("order_status", 0.2), ("shipping_cost", 0.15)])
    events = await ActionNotUnderstood().run(CollectingDispatcher(), tracker, domain)
    assert events == [FollowupAction("action_handoff")]


def test_likely_intents_skips_intents_without_a_label(domain: dict[str, Any]) -> None:
    from actions.fallback import likely_intents

    message = parsed([("greet", 0.2), ("affirm", 0.1)])
    assert likely_intents(message, domain["responses"]) == []
