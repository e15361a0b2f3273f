"""The handoff trigger component: sensitive or furious messages become ``request_human``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema, SchemaNode
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.handoff.triggers import TRIGGER_ATTRIBUTE, Trigger
from borderless.nlu.handoff_triggers import HandoffTriggerDetector
from borderless.nlu.language import DETECTION_ATTRIBUTE


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> HandoffTriggerDetector:
    node = SchemaNode(needs={}, uses=HandoffTriggerDetector, constructor_name="load", fn="process",
                      config={})  # fmt: skip
    return HandoffTriggerDetector.create(
        HandoffTriggerDetector.get_default_config(),
        LocalModelStorage(tmp_path_factory.mktemp("storage")),
        Resource("handoff_triggers"),
        ExecutionContext(GraphSchema({"triggers": node}), model_id="t", node_name="triggers"),
    )


def message(text: str, intent: str = "order_status", language: str | None = "en") -> Message:
    data: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.8},
        "intent_ranking": [{"name": intent, "confidence": 0.8}],
    }
    if language:
        data[DETECTION_ATTRIBUTE] = {"language": language}
    return Message(data=data)


def test_registered_as_an_untrainable_intent_classifier() -> None:
    name = "borderless.nlu.handoff_triggers.HandoffTriggerDetector"
    registered = DefaultV1Recipe._from_registry(name)
    assert registered.clazz is HandoffTriggerDetector and not registered.is_trainable


def test_a_chargeback_threat_becomes_a_handoff_with_its_reason(
    detector: HandoffTriggerDetector,
) -> None:
    [parsed] = detector.process([message("Ich mache eine Rückbuchung!", "payment", "de")])
    assert parsed.get("intent") == {"name": "request_human", "confidence": 1.0}
    assert parsed.get("intent_ranking")[1]["name"] == "payment"  # what the classifier thought
    trigger = Trigger.from_dict(parsed.get(TRIGGER_ATTRIBUTE))
    assert trigger is not None and trigger.reason == "chargeback"
    # It reaches the tracker: an output property that survives the event's JSON.
    output = parsed.as_dict(only_output_properties=True)
    event = UserUttered(parsed.get("text"), parsed.get("intent"), [], output)
    restored = Event.from_parameters(json.loads(json.dumps(event.as_dict())))
    assert isinstance(restored, UserUttered)
    assert restored.parse_data[TRIGGER_ATTRIBUTE]["reason"] == "chargeback"


def test_a_furious_message_hands_over_even_without_a_detected_language(
    detector: HandoffTriggerDetector,
) -> None:
    [parsed] = detector.process([message("WHERE IS MY ORDER, THIS IS A SCAM!!!", language=None)])
    assert parsed.get("intent")["name"] == "request_human"
    assert parsed.get(TRIGGER_ATTRIBUTE)["kind"] == "frustration"


def test_a_complaint_keeps_its_intent_and_gains_the_reason(
    detector: HandoffTriggerDetector,
) -> None:
    [parsed] = detector.process([message("My lawyer will hear about this", "complaint")])
    assert parsed.get("intent")["name"] == "complaint"
    assert parsed.get(TRIGGER_ATTRIBUTE)["reason"] == "legal"


def test_calm_messages_and_messages_without_text_are_left_alone(
    detector: HandoffTriggerDetector,
) -> None:
    calm = message("where is my order BL-10001?")
    no_text = Message(data={"intent": {"name": "greet"}})
    [parsed, untouched] = detector.process([calm, no_text])
    assert parsed.get("intent")["name"] == "order_status"
    assert parsed.get(TRIGGER_ATTRIBUTE) is None and untouched.get(TRIGGER_ATTRIBUTE) is None


def test_training_data_is_left_alone(detector: HandoffTriggerDetector) -> None:
    data = TrainingData([Message(data={"text": "I will sue you", "intent": "complaint"})])
    assert detector.process_training_data(data) is data


def test_the_rules_file_is_configurable(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text("sensitive:\n  recall:\n    en: ['\\brecall\\b']\n", encoding="utf-8")
    node = SchemaNode(needs={}, uses=HandoffTriggerDetector, constructor_name="load", fn="process",
                      config={})  # fmt: skip
    detector = HandoffTriggerDetector.create(
        {"rules": str(rules)},
        LocalModelStorage(tmp_path / "storage"),
        Resource("handoff_triggers"),
        ExecutionContext(GraphSchema({"t": node}), model_id="t", node_name="t"),
    )
    [parsed] = detector.process([message("Is this charger part of the recall?")])
    assert parsed.get(TRIGGER_ATTRIBUTE)["reason"] == "recall"
