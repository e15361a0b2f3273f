"""The workbench's evaluation keeps each model's predictions, so a comparison parses only what
that model file has not seen yet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from borderless.nlu import evaluation


def test_only_new_texts_are_parsed_and_a_new_model_file_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []

    async def fake_predict(model: Path, examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
        parsed.extend(str(e["text"]) for e in examples)
        return [
            {"id": e["id"], "intent": "greet", "confidence": 0.9, "top_intent": "greet"}
            for e in examples
        ]

    monkeypatch.setattr(evaluation, "predict", fake_predict)
    model = tmp_path / "borderless-abc.tar.gz"
    model.write_bytes(b"model one")
    cache = tmp_path / "cache"
    first = [{"id": 1, "text": "hello"}, {"id": 2, "text": "hallo"}]
    assert [r["id"] for r in evaluation.predict_cached(model, first, cache)] == [1, 2]
    assert parsed == ["hello", "hallo"]

    again = [{"id": 7, "text": "hallo"}, {"id": 8, "text": "bonjour"}]
    result = evaluation.predict_cached(model, again, cache)
    assert parsed == ["hello", "hallo", "bonjour"]  # only the new text
    assert result == [
        {"id": 7, "intent": "greet", "confidence": 0.9, "top_intent": "greet"},
        {"id": 8, "intent": "greet", "confidence": 0.9, "top_intent": "greet"},
    ]

    # Retrained into the same file name (fine-tuned, say): nothing of the old file is reused.
    model.write_bytes(b"model two, longer")
    os.utime(model, (1_900_000_000, 1_900_000_000))
    evaluation.predict_cached(model, first, cache)
    assert parsed[-2:] == ["hello", "hallo"]
