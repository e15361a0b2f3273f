"""The TF-IDF weighting of RobustLogisticRegressionClassifier matches scikit-learn's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import skops.io as sio
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from borderless.nlu.classifier import (
    IDF_ATTRIBUTE,
    RobustLogisticRegressionClassifier,
    inverse_document_frequency,
    tfidf,
)

COUNTS = csr_matrix(np.array([[3, 0, 1, 0], [2, 0, 0, 0], [3, 0, 0, 2], [4, 1, 0, 0]]))


def test_weights_match_sklearns_sublinear_tfidf() -> None:
    expected = TfidfTransformer(sublinear_tf=True).fit_transform(COUNTS).toarray()
    idf = inverse_document_frequency(COUNTS)
    assert np.allclose(tfidf(COUNTS, idf).toarray(), expected)
    assert COUNTS.toarray()[0, 0] == 3  # the input is left alone


def test_empty_rows_stay_empty() -> None:
    idf = inverse_document_frequency(COUNTS)
    assert tfidf(csr_matrix((2, 4)), idf).nnz == 0


def test_defaults_keep_rasas_behaviour() -> None:
    config = RobustLogisticRegressionClassifier.get_default_config()
    assert config["C"] == 1.0
    assert config["tfidf"] is False


def test_idf_survives_skops_without_untrusted_types(tmp_path: Path) -> None:
    clf = LogisticRegression().fit(COUNTS, ["a", "b", "a", "b"])
    setattr(clf, IDF_ATTRIBUTE, inverse_document_frequency(COUNTS))
    path = tmp_path / "clf.skops"
    sio.dump(clf, path)
    assert sio.get_untrusted_types(file=path) == []
    loaded = sio.load(path, trusted=[])
    assert np.allclose(getattr(loaded, IDF_ATTRIBUTE), getattr(clf, IDF_ATTRIBUTE))
