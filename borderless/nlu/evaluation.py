"""Predictions of trained models on labelled messages, for the workbench's before/after.

Run as a subprocess (it loads TensorFlow and the models, which the web app should not)::

    python -m borderless.nlu.evaluation --examples in.json --out out.json --model A [--model B]

``in.json`` is a list of ``{"id", "text", ...}``; ``out.json`` maps each model path to a list of
``{"id", "intent", "confidence", "top_intent"}`` in the same order, where ``intent`` is what the
assistant would act on (``nlu_fallback`` included) and ``top_intent`` the classifier's own first
choice (how bench/nlu_eval.py scores intents). Progress goes to stdout as ``evaluated i/n``.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--model", type=Path, action="append", required=True)
    args = parser.parse_args(argv)
    examples = json.loads(args.examples.read_text(encoding="utf-8"))
    out = {str(model): asyncio.run(predict(model, examples)) for model in args.model}
    args.out.write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
