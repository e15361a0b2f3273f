"""NLU accuracy per language on held-out data, beside the stock Rasa pipeline.

Trains NLU-only models on ``data/`` (all languages together, one model each) and evaluates them
on ``tests/nlu_heldout/<lang>/`` (utterances never seen in training):

    .venv/bin/python bench/nlu_eval.py                 # project config.yml vs stock `rasa init`
    .venv/bin/python bench/nlu_eval.py --only project  # just ours
    .venv/bin/python bench/nlu_eval.py --config other.yml --only project

    .venv/bin/python bench/nlu_eval.py --only stock --model kept/stock.tar.gz  # no training
    .venv/bin/python bench/nlu_eval.py --project-model m/a.tar.gz --stock-model kept/stock.tar.gz
    # (both kept models side by side, no training)

Prints, per language: intent accuracy and macro-F1, language-detection accuracy on messages of
three words or more (CJK: four characters); per entity type: precision, recall and F1 of exact
spans; and the training time of each model. Separately for the ``dev`` files (the held-out set
the training data was improved against) and the ``blind*.yml`` files (written by people who
never saw ``data/nlu/``; never tuned against: the honest figure), and for both together.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from borderless.settings import PROJECT_ROOT

HELDOUT = PROJECT_ROOT / "tests" / "nlu_heldout"
FALLBACK = "nlu_fallback"

# The pipeline `rasa init` writes for Rasa 3.6 (its config.yml leaves it to these defaults).
STOCK_CONFIG = """
recipe: default.v1
language: en
assistant_id: stock
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
policies: []
"""


@dataclass
class Example:
    language: str
    text: str
    intent: str
    entities: list[tuple[str, int, int]]
    subset: str = "dev"


@dataclass
class Scores:
    intents: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))
    detection: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    detection_words: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    fallbacks: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    entities: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    train_seconds: float = 0.0
    parse_ms: list[float] = field(default_factory=list)


def heldout() -> list[Example]:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for folder in sorted(p for p in HELDOUT.iterdir() if p.is_dir()):
        for path in sorted(folder.glob("*.yml")):
            subset = "blind" if path.name.startswith("blind") else "dev"
            for message in load_data(str(path)).intent_examples:
                spans = [(e["entity"], e["start"], e["end"]) for e in message.get("entities") or []]
                examples.append(
                    Example(folder.name, message.get("text"), message.get("intent"), spans, subset)
                )
    return examples


SUBSETS = {
    "all": "every file under tests/nlu_heldout/",
    "dev": "the held-out files that training data was improved against (may be optimistic)",
    "blind": "blind*.yml: written without seeing data/nlu/, never tuned against",
}


def long_enough(example: Example) -> bool:
    """Three words or more, as split by whitespace (CJK: four characters)."""
    if example.language in ("ja", "zh"):
        return sum(1 for ch in example.text if ord(ch) > 0x2E80) >= 4
    return len(example.text.split()) >= 3


def language_words(example: Example) -> bool:
    """Three words *of language* or more (CJK: four characters): numbers, order numbers,
    emails, URLs, emoji and capitalized names inside a sentence don't count, since
    "+34 644 55 66 77" or "BL-16789 e felipe@x.com" is written in no language at all."""
    from borderless.nlu.language import extract_evidence

    evidence = extract_evidence(example.text, 1000)
    if example.language in ("ja", "zh"):
        return evidence.cjk_chars >= 4
    return evidence.latin_words + evidence.arabic_words >= 3


def train(config: Path, out: Path) -> tuple[Path, float]:
    from rasa.model_training import train_nlu

    started = time.monotonic()
    model = train_nlu(
        str(config), str(PROJECT_ROOT / "data"), str(out), domain=str(PROJECT_ROOT / "domain.yml")
    )
    return Path(str(model)), time.monotonic() - started


async def evaluate(model: Path, examples: list[Example]) -> dict[str, Scores]:
    """Scores of ``model`` on all examples (``"all"``) and on each subset (``"dev"``, the
    held-out files tuned against; ``"blind"``, the ``blind*.yml`` files written without seeing
    the training data and never tuned against)."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    by_subset: dict[str, Scores] = defaultdict(Scores)
    for example in examples:
        started = time.perf_counter()
        parsed: dict[str, Any] = await agent.parse_message(example.text)
        elapsed = (time.perf_counter() - started) * 1000
        for subset in ("all", example.subset):
            record(by_subset[subset], example, parsed, elapsed)
    return dict(by_subset)


def record(scores: Scores, example: Example, parsed: dict[str, Any], elapsed: float) -> None:
    scores.parse_ms.append(elapsed)
    # The classifier's own choice, and whether FallbackClassifier overrode it.
    ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
    predicted = ranking[0]["name"] if ranking else "none"
    scores.intents[example.language].append((example.intent, predicted))
    fell_back = (parsed.get("intent") or {}).get("name") == FALLBACK
    scores.fallbacks[example.language].append(fell_back)
    detection = parsed.get("language_detection")
    right = detection is not None and detection.get("detected") == example.language
    if detection is not None and long_enough(example):
        scores.detection[example.language].append(right)
    if detection is not None and language_words(example):
        scores.detection_words[example.language].append(right)
    gold = set(example.entities)
    found = {(e["entity"], e["start"], e["end"]) for e in parsed.get("entities") or []}
    for entity_type in {e[0] for e in gold | found}:
        g = {e for e in gold if e[0] == entity_type}
        f = {e for e in found if e[0] == entity_type}
        counts = scores.entities[entity_type]
        counts[0] += len(g & f)  # true positives
        counts[1] += len(f - g)  # false positives
        counts[2] += len(g - f)  # false negatives


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    from sklearn.metrics import f1_score

    gold = [g for g, _ in pairs]
    return float(f1_score(gold, [p for _, p in pairs], labels=sorted(set(gold)), average="macro"))


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(g == p for g, p in pairs) / len(pairs) if pairs else 0.0


def f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    score = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, score


def report(results: dict[str, Scores]) -> None:
    names = list(results)
    languages = sorted({lang for s in results.values() for lang in s.intents})
    header = f"{'language':<10}{'n':>5}" + "".join(
        f"{name + ' acc':>16}{name + ' F1':>15}{'fallback':>10}" for name in names
    )
    print("\nIntent classification on held-out data (the classifier's top intent; 'fallback' is")
    print("the share of these messages FallbackClassifier would still turn into nlu_fallback)")
    print(header)
    for language in languages:
        pairs = results[names[0]].intents[language]
        row = f"{language:<10}{len(pairs):>5}"
        for name in names:
            p = results[name].intents[language]
            fallbacks = results[name].fallbacks[language]
            share = sum(fallbacks) / len(fallbacks) if fallbacks else 0.0
            row += f"{accuracy(p):>16.3f}{macro_f1(p):>15.3f}{share:>10.3f}"
        print(row)
    ours = results[names[0]]
    print("\nLanguage detection, per message without context, on messages of 3+ words (CJK: 4+")
    print("characters): as split by whitespace | counting only words of language (no numbers,")
    print("order numbers, emails, emoji or capitalized names)")
    for language in [*languages, "all"]:
        row = f"{language:<10}"
        for table in (ours.detection, ours.detection_words):
            checks = (
                [c for values in table.values() for c in values]
                if language == "all"
                else table.get(language, [])
            )
            if checks:
                row += f"{len(checks):>7}{sum(checks) / len(checks):>8.3f}"
        print(row)
    print("\nEntities (exact spans)")
    print(f"{'entity':<18}" + "".join(f"{name + ' P/R/F1':>26}" for name in names))
    for entity in sorted({e for s in results.values() for e in s.entities}):
        row = f"{entity:<18}"
        for name in names:
            p, r, score = f1(*results[name].entities.get(entity, [0, 0, 0]))
            row += f"{p:>10.3f}{r:>8.3f}{score:>8.3f}"
        print(row)
    print("\nTraining time and parse latency")
    for name, scores in results.items():
        ordered = sorted(scores.parse_ms)
        p50 = ordered[len(ordered) // 2]
        p95 = ordered[int(len(ordered) * 0.95)]
        print(
            f"{name:<10} trained in {scores.train_seconds:6.0f} s;"
            f" parse p50 {p50:.1f} ms, p95 {p95:.1f} ms"
        )


def confusions(results: dict[str, Scores], top: int = 8) -> None:
    from collections import Counter

    for name, scores in results.items():
        print(f"\nMost common confusions ({name}): gold → predicted")
        for language, pairs in sorted(scores.intents.items()):
            wrong = Counter((g, p) for g, p in pairs if g != p).most_common(top)
            listed = ", ".join(f"{g}→{p} ×{n}" for (g, p), n in wrong)
            print(f"{language:<4} {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, default=PROJECT_ROOT / "config.yml")
    parser.add_argument("--only", choices=["project", "stock"])
    parser.add_argument("--model", type=Path, help="evaluate this trained model, don't train")
    parser.add_argument("--project-model", type=Path, help="the project's trained model")
    parser.add_argument("--stock-model", type=Path, help="a stock model kept with --keep")
    parser.add_argument("--keep", type=Path, help="copy the trained model(s) into this folder")
    parser.add_argument("--errors", action="store_true", help="print the most common confusions")
    args = parser.parse_args()
    examples = heldout()
    print(f"{len(examples)} held-out examples in {len({e.language for e in examples})} languages")
    results: dict[str, dict[str, Scores]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        stock = Path(tmp) / "stock.yml"
        stock.write_text(STOCK_CONFIG)
        runs = {"project": args.config, "stock": stock}
        for name, config in runs.items():
            if args.only and name != args.only:
                continue
            given = args.model or {"project": args.project_model, "stock": args.stock_model}[name]
            if given:
                model, seconds = given, 0.0
            else:
                print(f"training {name} ({config.name}) …", flush=True)
                model, seconds = train(config, Path(tmp) / name)
            if args.keep and not given:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(model, args.keep / f"{name}.tar.gz")
            scores = asyncio.run(evaluate(model, examples))
            for subset in scores.values():
                subset.train_seconds = seconds
            results[name] = scores
    subsets = [s for s in ("all", "dev", "blind") if any(s in r for r in results.values())]
    for subset in subsets:
        if subset == "all" and len(subsets) == 2:
            continue  # one subset only: "all" is the same table
        count = sum(len(p) for p in next(iter(results.values()))[subset].intents.values())
        print(f"\n===== {subset.upper()} held-out set: {count} messages =====")
        print(SUBSETS[subset])
        report({name: scores[subset] for name, scores in results.items()})
        if args.errors:
            confusions({name: scores[subset] for name, scores in results.items()})


if __name__ == "__main__":
    main()
