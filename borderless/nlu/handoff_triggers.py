"""Rasa NLU component: a message on a sensitive topic, or a furious one, goes to a person.

``HandoffTriggerDetector`` applies :meth:`borderless.handoff.triggers.HandoffRules.check` to
every message (rules from ``demo/handoff_rules.yml``). When a rule fires it

* adds ``handoff_trigger`` (:meth:`~borderless.handoff.triggers.Trigger.as_dict`: kind,
  reason, score, details) to the parse data, where ``action_handoff`` reads the reason;
* turns the intent into ``request_human`` (confidence 1.0; the classifier's intent stays first
  in ``intent_ranking`` after it), so the existing rules hand over from any state, also inside
  a form. A ``complaint`` keeps its intent: its own rule already apologizes and hands over.

Why in the NLU pipeline: it is the one place in Rasa 3.6 that sees every message before the
policies decide, so the trigger works whatever the classifier thought the customer meant (a
chargeback threat classified as ``payment`` is still a chargeback threat). The per-message
frustration score sees only this message (shouting, !!!, negative words); repeats across turns
count in the ticket's score at handoff time.

Place it last, after ``FallbackClassifier`` (an unsure message about a lawsuit still goes to a
person)::

    - name: borderless.nlu.handoff_triggers.HandoffTriggerDetector
      rules: demo/handoff_rules.yml      # relative to the project root; optional
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.handoff.triggers import TRIGGER_ATTRIBUTE, HandoffRules, load_rules
from borderless.nlu.language import DETECTION_ATTRIBUTE
from borderless.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

HANDOFF_INTENT = "request_human"
#: Intents that hand over by their own rules; a trigger adds its reason but keeps them.
HANDING_OVER = frozenset({HANDOFF_INTENT, "complaint"})


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class HandoffTriggerDetector(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"rules": "demo/handoff_rules.yml"}

    def __init__(self, rules: HandoffRules) -> None:
        self.rules = rules

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> HandoffTriggerDetector:
        path = Path(str({**cls.get_default_config(), **config}["rules"]))
        return cls(load_rules(path if path.is_absolute() else PROJECT_ROOT / path))

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str):
            return
        detection = message.get(DETECTION_ATTRIBUTE) or {}
        language = detection.get("language") if isinstance(detection, dict) else None
        trigger = self.rules.check(text, language)
        if trigger is None:
            return
        message.set(TRIGGER_ATTRIBUTE, trigger.as_dict(), add_to_output=True)
        intent = message.get("intent") or {}
        if intent.get("name") in HANDING_OVER:
            return
        handoff = {"name": HANDOFF_INTENT, "confidence": 1.0}
        ranking = [handoff, *(message.get("intent_ranking") or [])]
        message.set("intent", handoff, add_to_output=True)
        message.set("intent_ranking", ranking, add_to_output=True)
        logger.debug("Handoff trigger %s/%s", trigger.kind, trigger.reason)  # no text: PII
