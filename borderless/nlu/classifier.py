"""Rasa's LogisticRegressionClassifier, safe on messages without text, with TF-IDF and ``C``.

Rasa 3.6's classifier stacks whatever sparse features a message has; an empty or blank message
lacks some of them, the matrix is narrower than the one it was trained on, and scikit-learn
raises, so the REST channel drops the message without a reply. Here such messages get no
intent with confidence 0, which FallbackClassifier turns into ``nlu_fallback`` as for any
message the bot does not understand.

Rasa's version feeds raw counts (word and character n-grams, lexical and regex features) to a
logistic regression with ``C = 1``. With ``tfidf: true`` the counts are weighted like
scikit-learn's ``TfidfTransformer(sublinear_tf=True)`` (1 + log tf, times the smooth inverse
document frequency learned in training, rows L2-normalized): frequent n-grams shared by every
intent ("my", "order", "de", "の") stop drowning the rare distinctive ones. Normalized rows need
a weaker regularization, hence ``C``. On the nine held-out sets this raised intent macro-F1 by
1-3 points (docs/benchmarks.md). The IDF weights are stored on the fitted scikit-learn model as
a plain array, so the model still loads with skops' default trusted types.

Example ``config.yml`` entry::

    - name: borderless.nlu.classifier.RobustLogisticRegressionClassifier
      max_iter: 300
      tfidf: true
      C: 30
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, diags
from sklearn.preprocessing import normalize

#: Attribute of the fitted LogisticRegression holding the IDF weights (``tfidf: true``).
IDF_ATTRIBUTE = "borderless_idf_"


def inverse_document_frequency(X: csr_matrix) -> np.ndarray:
    """scikit-learn's smooth IDF: ``ln((1 + n) / (1 + df)) + 1`` per column."""
    n = X.shape[0]
    df = np.bincount(csr_matrix(X).indices, minlength=X.shape[1])
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def tfidf(X: csr_matrix, idf: np.ndarray) -> csr_matrix:
    """Sublinear TF (1 + log tf) times ``idf``, rows L2-normalized; ``X`` is not changed."""
    weighted = csr_matrix(X, dtype=np.float64, copy=True)
    positive = weighted.data > 0
    weighted.data[positive] = 1.0 + np.log(weighted.data[positive])
    weighted = weighted @ diags(idf)
    return normalize(csr_matrix(weighted), norm="l2", copy=False)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class RobustLogisticRegressionClassifier(LogisticRegressionClassifier):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults, plus ``C`` (inverse regularization) and ``tfidf`` (off)."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "tfidf": False}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        X = super()._create_X(messages)
        idf = getattr(self.clf, IDF_ATTRIBUTE, None)
        if self.config["tfidf"] and idf is not None and X.shape[1] == len(idf):
            X = tfidf(X, idf)
        return X

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the IDF weights from the training matrix first, if ``tfidf``."""
        if self.config["tfidf"]:
            examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
            if examples:
                setattr(self.clf, IDF_ATTRIBUTE, None)
                raw = super()._create_X(examples)
                setattr(self.clf, IDF_ATTRIBUTE, inverse_document_frequency(raw))
        return super().train(training_data)

    def process(self, messages: list[Message]) -> list[Message]:
        readable = [m for m in messages if str(m.get(TEXT) or "").strip()]
        if readable:
            super().process(readable)
        for message in messages:
            if message not in readable:
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
