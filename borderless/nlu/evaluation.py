"""Predictions of trained models on labelled messages, for the workbench's before/after.

Run as a subprocess (it loads TensorFlow and the models, which the web app should not)::

    python -m borderless.nlu.evaluation --examples in.json --out out.json --model A [--model B]

``in.json`` is a list of ``{"id", "text", ...}``; ``out.json`` maps each model path to a list of
``{"id", "intent", "confidence", "top_intent"}`` in the same order, where ``intent`` is what the
assistant would act on (``nlu_fallback`` included) and ``top_intent`` the classifier's own first
choice (how bench/nlu_eval.py scores intents). Progress goes to stdout as ``evaluated i/n``.

With ``--cache DIR`` a model's predictions are kept in ``DIR`` per model file (name, size and
modification time) and text, so the next comparison does not parse the same 5,000 held-out
messages with the same model again: the active model of a retrain was the new model of the
previous one, and only the newly annotated messages are left to predict.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

FALLBACK = "nlu_fallback"


async def predict(model: Path, examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    results = []
    for number, example in enumerate(examples, 1):
        parsed: dict[str, Any] = await agent.parse_message(str(example["text"]))
        intent = parsed.get("intent") or {}
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        results.append(
            {
                "id": example["id"],
                "intent": intent.get("name"),
                "confidence": float(intent.get("confidence") or 0.0),
                "top_intent": ranking[0]["name"] if ranking else intent.get("name"),
            }
        )
        if number % 100 == 0 or number == len(examples):
            print(f"evaluated {number}/{len(examples)}", flush=True)
    return results


def cache_file(cache: Path, model: Path) -> Path:
    """One file per model *file*: a fine-tuned and a fully trained model of the same data share
    a name but not a size and time."""
    stat = model.stat()
    return cache / f"{model.name}-{stat.st_size}-{int(stat.st_mtime)}.json"


def predict_cached(
    model: Path, examples: list[dict[str, Any]], cache: Path | None
) -> list[dict[str, Any]]:
    known: dict[str, dict[str, Any]] = {}
    path = cache_file(cache, model) if cache is not None else None
    if path is not None and path.exists():
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
    missing = [e for e in examples if str(e["text"]) not in known]
    print(f"{model.name}: {len(examples) - len(missing)} predictions cached", flush=True)
    if missing:
        for example, result in zip(missing, asyncio.run(predict(model, missing)), strict=True):
            known[str(example["text"])] = {k: v for k, v in result.items() if k != "id"}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(known, ensure_ascii=False), encoding="utf-8")
    return [{"id": e["id"], **known[str(e["text"])]} for e in examples]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", type=Path, action="append", required=True)
    parser.add_argument("--cache", type=Path, help="keep and reuse predictions in this folder")
    args = parser.parse_args(argv)
    examples = json.loads(args.examples.read_text(encoding="utf-8"))
    out = {str(model): predict_cached(model, examples, args.cache) for model in args.model}
    args.out.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
