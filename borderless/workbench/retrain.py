"""Retrain, compare, activate: the workbench's one button, as a background job.

``RetrainJob.run`` (in a worker thread) does, each step in a ``nice``d subprocess:

1. **train** ``models/borderless-<fingerprint>.tar.gz`` (:mod:`borderless.training`): fully, or
   incrementally with ``rasa train --finetune <active model>`` when asked and possible. Progress
   is read from Rasa's log: the components it starts (``Starting to train component``) and the
   epochs of the policies' progress bars (``Epochs: 42%``).
2. **evaluate** the active model and the new one on the held-out set (``tests/nlu_heldout``)
   and on every annotated message (:mod:`borderless.nlu.evaluation`), then compare: intent
   macro-F1 per language before/after, the confusions (gold -> predicted) whose counts changed,
   and the messages whose prediction changed.
3. wait for the trainer: **activate** loads the model into the running Rasa server beside the
   old one and swaps it in (:mod:`borderless.channels.model_loader`: no restart, no refused
   request, no customer waiting for the load), **discard** deletes it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from borderless import training
from borderless.settings import PROJECT_ROOT
from borderless.workbench.annotations import Annotation
from borderless.workbench.export import plain_text, read_examples
from borderless.workbench.masking import synthesize

IDLE, TRAINING, EVALUATING, READY, ACTIVATED, DISCARDED, FAILED = (
    "idle", "training", "evaluating", "ready", "activated", "discarded", "failed",
)  # fmt: skip
_START = re.compile(r"Starting to train component '([^']+)'")
_RESTORED = re.compile(r"Restored component '([^']+)' from cache")
_EPOCHS = re.compile(r"Epochs:\s+(\d+)%")
FALLBACK = "nlu_fallback"


class RasaServerError(RuntimeError):
    pass


class RasaModelServer:
    """The two calls of Rasa's HTTP API the workbench needs: which model runs, load another."""

    def __init__(self, base_url: str, token: str | None, timeout: float = 600.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}" + (f"?token={self.token}" if self.token else "")

    def active_model(self) -> str | None:
        try:
            with urllib.request.urlopen(self._url("/status"), timeout=10) as response:
                body = json.load(response)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RasaServerError(f"Rasa status unavailable: {exc}") from exc
        model = body.get("model_file") if isinstance(body, dict) else None
        return str(model) if model else None

    def activate(self, model: Path) -> None:
        """Loads ``model`` beside the running one and swaps it in (``PUT /webhooks/models/active``,
        :mod:`borderless.channels.model_loader`: customers never wait for the load); where that
        channel is not configured, Rasa's own ``PUT /model`` (messages wait while it loads)."""
        body = json.dumps({"model_file": str(model)}).encode()
        status, detail = self._put("/webhooks/models/active", body)
        if status == 404 and b"no model file" not in detail:  # the loader is not configured
            status, detail = self._put("/model", body)
        if status not in (200, 204):
            text = detail.decode(errors="replace")[:500]
            raise RasaServerError(f"Rasa refused the model ({status}): {text}")

    def _put(self, path: str, body: bytes) -> tuple[int, bytes]:
        """The status and, for an error, the body of Rasa's answer."""
        request = urllib.request.Request(
            self._url(path), data=body, headers={"Content-Type": "application/json"}, method="PUT"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status), b""
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError) as exc:
            raise RasaServerError(f"Rasa unreachable: {exc}") from exc


# ------------------------------------------------------------------------------------------
# Comparison


def macro_f1(pairs: list[tuple[str, str]]) -> float:
    """Macro-F1 over the gold labels present (the same definition as bench/nlu_eval.py)."""
    labels = sorted({g for g, _ in pairs})
    if not labels:
        return 0.0
    scores = []
    for label in labels:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        fp = sum(1 for g, p in pairs if g != label and p == label)
        fn = sum(1 for g, p in pairs if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores)


def compare(
    examples: list[dict[str, Any]],
    before: list[dict[str, Any]] | None,
    after: list[dict[str, Any]],
) -> dict[str, Any]:
    """Per set and language: F1 before/after; changed confusions; changed predictions."""
    table: dict[tuple[str, str], dict[str, list[tuple[str, str]]]] = defaultdict(
        lambda: {"before": [], "after": []}
    )
    confusion: dict[str, Counter[tuple[str, str]]] = {"before": Counter(), "after": Counter()}
    changed = []
    for i, example in enumerate(examples):
        gold = example["intent"]
        new = after[i]["top_intent"]
        key = (example["set"], example["language"])
        table[key]["after"].append((gold, new))
        if gold != new:
            confusion["after"][(gold, new)] += 1
        if before is not None:
            old = before[i]["top_intent"]
            table[key]["before"].append((gold, old))
            if gold != old:
                confusion["before"][(gold, old)] += 1
            if old != new:
                changed.append(
                    {
                        "id": example["id"],
                        "set": example["set"],
                        "language": example["language"],
                        "text": example["text"],
                        "gold": gold,
                        "before": old,
                        "after": new,
                        "fixed": new == gold,
                    }
                )
    rows = []
    for (set_name, language), pairs in sorted(table.items()):
        rows.append(
            {
                "set": set_name,
                "language": language,
                "n": len(pairs["after"]),
                "f1_before": round(macro_f1(pairs["before"]), 4) if before is not None else None,
                "f1_after": round(macro_f1(pairs["after"]), 4),
            }
        )
    confusions: list[dict[str, Any]] = []
    for pair in sorted(set(confusion["before"]) | set(confusion["after"])):
        b, a = confusion["before"][pair], confusion["after"][pair]
        if b != a:
            confusions.append({"gold": pair[0], "predicted": pair[1], "before": b, "after": a})
    confusions.sort(key=lambda c: -abs(c["after"] - c["before"]))
    changed.sort(key=lambda c: (not c["fixed"], c["set"], c["language"], c["text"]))
    return {"f1": rows, "confusions": confusions, "changed": changed}


def heldout_examples(folder: Path) -> list[dict[str, Any]]:
    examples = []
    for path in sorted(folder.rglob("*.yml")):
        language = path.parent.name
        for intent, lines in read_examples(path).items():
            for n, line in enumerate(lines):
                examples.append(
                    {
                        "id": f"heldout:{language}:{intent}:{n}",
                        "set": "heldout",
                        "language": language,
                        "text": plain_text(line),
                        "intent": intent,
                    }
                )
    return examples


def annotated_examples(annotations: Iterable[Annotation]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"annotation:{a.event_id}",
            "set": "annotated",
            "language": a.language,
            "text": synthesize(a.text).text,
            "intent": a.intent,
        }
        for a in annotations
    ]


# ------------------------------------------------------------------------------------------
# The job


@dataclass
class JobState:
    status: str = IDLE
    mode: str = "full"
    progress: float = 0.0
    step: str = ""
    started: float | None = None
    trained_seconds: float | None = None
    evaluated_seconds: float | None = None
    activated_seconds: float | None = None
    model: str | None = None
    base_model: str | None = None
    comparison: dict[str, Any] | None = None
    error: str | None = None
    log_tail: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


Runner = Callable[[list[str], Path, Callable[[str], None]], int]


def run_streaming(command: list[str], cwd: Path, on_line: Callable[[str], None]) -> int:
    """Run ``command`` niced, feeding each output line (``\\r`` progress bars too) to
    ``on_line``."""
    # The project's own components (borderless.nlu) must import from any project folder.
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        ["nice", "-n", "10", *command],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    buffer = b""
    while True:
        chunk = process.stdout.read1(4096) if hasattr(process.stdout, "read1") else b""
        if not chunk:
            break
        buffer += chunk
        parts = re.split(rb"[\r\n]", buffer)
        buffer = parts.pop()
        for part in parts:
            if part.strip():
                on_line(part.decode(errors="replace"))
    if buffer.strip():
        on_line(buffer.decode(errors="replace"))
    return process.wait()


class Retrainer:
    """One retrain at a time; the web app polls :attr:`state`."""

    def __init__(
        self,
        root: Path,
        model_server: RasaModelServer,
        annotations: Callable[[], list[Annotation]],
        *,
        heldout_dir: Path | None = None,
        runner: Runner = run_streaming,
        python: str = sys.executable,
    ) -> None:
        self.root = root
        self.model_server = model_server
        self.annotations = annotations
        self.heldout_dir = heldout_dir or root / "tests" / "nlu_heldout"
        self.runner = runner
        self.python = python
        self.state = JobState()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._components_total = _count_components(root / "config.yml")

    @property
    def busy(self) -> bool:
        return self.state.status in (TRAINING, EVALUATING)

    def start(self, mode: str = "full") -> bool:
        """Start a retrain in the background; ``False`` when one is running already."""
        with self._lock:
            if self.busy:
                return False
            self.state = JobState(status=TRAINING, mode=mode, started=time.monotonic())
            self._thread = threading.Thread(target=self._run, name="retrain", daemon=True)
            self._thread.start()
            return True

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        state = self.state
        try:
            try:
                base = self.model_server.active_model()
            except RasaServerError:
                base = None
            base_path = self._resolve(base) if base else None
            state.base_model = str(base_path) if base_path else None
            target = training.model_path(self.root)
            state.model = str(target)
            began = time.monotonic()
            if target.exists() and (base_path is None or target != base_path):
                state.step = "a model for this data exists already"
            elif target.exists():
                state.step = "the active model already has this data"
            else:
                self._train(target, base_path if state.mode == "finetune" else None)
            state.trained_seconds = round(time.monotonic() - began, 1)
            state.progress = 1.0
            state.status = EVALUATING
            began = time.monotonic()
            state.comparison = self._evaluate(base_path, target)
            state.evaluated_seconds = round(time.monotonic() - began, 1)
            state.status = READY
            state.step = "ready: activate or discard"
        except Exception as exc:  # the trainer sees every failure on the page
            state.status = FAILED
            state.error = str(exc)

    def _resolve(self, model: str) -> Path:
        """Rasa reports the model it runs relative to its folder, or only by file name."""
        path = Path(model)
        for candidate in (path, self.root / path, self.root / "models" / path.name):
            if candidate.is_absolute() and candidate.exists():
                return candidate
        return path if path.is_absolute() else self.root / path

    def _log(self, line: str) -> None:
        self.state.log_tail = [*self.state.log_tail, line[-300:]][-20:]

    def _train(self, target: Path, finetune: Path | None) -> None:
        state = self.state
        started: set[str] = set()

        def on_line(line: str) -> None:
            match = _START.search(line) or _RESTORED.search(line)
            if match:
                started.add(match.group(1) + str(len(started)))
                state.step = f"training {match.group(1)}"
                self._log(line)
            epochs = _EPOCHS.search(line)
            components = min(len(started), self._components_total)
            fraction = components / max(1, self._components_total)
            if epochs and state.step.startswith("training"):
                # The running component's epochs fill its share of the bar.
                fraction += int(epochs.group(1)) / 100 / max(1, self._components_total) - (
                    1 / max(1, self._components_total)
                )
            state.progress = max(state.progress, min(0.99, fraction))
            if "error" in line.lower() or "exception" in line.lower():
                self._log(line)

        command = training.train_command(target, finetune=finetune)
        code = self.runner(command, self.root, on_line)
        if code != 0 or not target.exists():
            raise RuntimeError(f"training failed (exit {code}): " + " | ".join(state.log_tail[-5:]))

    def _evaluate(self, before: Path | None, after: Path) -> dict[str, Any]:
        state = self.state
        examples = heldout_examples(self.heldout_dir) + annotated_examples(self.annotations())
        state.step = f"evaluating on {len(examples)} messages"
        models = [after] + ([before] if before is not None and before != after else [])
        with tempfile.TemporaryDirectory(prefix="borderless-eval-") as tmp:
            given, out = Path(tmp) / "examples.json", Path(tmp) / "predictions.json"
            given.write_text(json.dumps(examples), encoding="utf-8")
            command = [self.python, "-m", "borderless.nlu.evaluation",
                       "--examples", str(given), "--out", str(out),
                       "--cache", str(self.root / "var" / "predictions")]  # fmt: skip
            for model in models:
                command += ["--model", str(model)]

            def on_line(line: str) -> None:
                if line.startswith("evaluated") or "predictions cached" in line:
                    state.step = line
                elif "rror" in line:
                    self._log(line)

            code = self.runner(command, self.root, on_line)
            if code != 0 or not out.exists():
                raise RuntimeError(
                    f"evaluation failed (exit {code}): " + " | ".join(state.log_tail[-5:])
                )
            predictions = json.loads(out.read_text(encoding="utf-8"))
        old = predictions.get(str(before)) if len(models) == 2 else None
        result = compare(examples, old, predictions[str(after)])
        result["before_model"] = str(before) if len(models) == 2 else None
        return result

    def activate(self) -> None:
        state = self.state
        if state.status != READY or not state.model:
            raise RasaServerError("nothing to activate: retrain first")
        began = time.monotonic()
        self.model_server.activate(Path(state.model))
        state.activated_seconds = round(time.monotonic() - began, 1)
        state.status = ACTIVATED
        state.step = f"active: {Path(state.model).name}"

    def discard(self) -> None:
        state = self.state
        if state.status != READY or not state.model:
            raise RasaServerError("nothing to discard")
        model = Path(state.model)
        if state.base_model != state.model and model.exists():
            model.unlink()
        state.status = DISCARDED
        state.step = "discarded"


def _count_components(config: Path) -> int:
    """Pipeline components + policies: the nodes that log "Starting to train component"."""
    import yaml

    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    except OSError:
        return 10
    return max(1, len(data.get("pipeline") or []) + len(data.get("policies") or []))
