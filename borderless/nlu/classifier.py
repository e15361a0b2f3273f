"""Rasa's LogisticRegressionClassifier, safe on messages without text.

Rasa 3.6's classifier stacks whatever sparse features a message has; an empty or blank message
lacks some of them, the matrix is narrower than the one it was trained on, and scikit-learn
raises, so the REST channel drops the message without a reply. Here such messages get no
intent with confidence 0, which FallbackClassifier turns into ``nlu_fallback`` as for any
message the bot does not understand.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RobustLogisticRegressionClassifier(LogisticRegressionClassifier):
    def process(self, messages: list[Message]) -> list[Message]:
        readable = [m for m in messages if str(m.get(TEXT) or "").strip()]
        if readable:
            super().process(readable)
        for message in messages:
            if message not in readable:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
