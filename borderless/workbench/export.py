"""Annotations become Rasa NLU YAML: ``data/nlu/<lang>/workbench.yml``, one file per language.

The rest of ``data/nlu`` is never touched. An export

* renders each annotated message with personal data replaced by synthetic values
  (:func:`borderless.workbench.masking.synthesize`) and the entity spans moved with it, so the
  files hold no real emails, phones, order numbers or names;
* keeps what earlier exports wrote to ``workbench.yml`` (a message annotated again replaces its
  old line), skips examples already anywhere else in ``data/nlu`` (same text, any file) and
  reports the ones filed there under another intent as conflicts;
* sorts intents and examples, so the same annotations always give the same bytes;
* is shown as a unified diff first (:func:`plan`), and written only after ``rasa data validate``
  accepted a copy of the project with the new files (:func:`apply`).
"""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from borderless.workbench.annotations import Annotation
from borderless.workbench.masking import synthesize

FILE_NAME = "workbench.yml"
HEADER = (
    'version: "3.1"\n\n'
    "# Written by the trainer workbench (docs/workbench.md) from annotated conversations;\n"
    "# personal data is replaced by synthetic values. Edit in the workbench, not here: the\n"
    "# next export rewrites this file (keeping its examples).\n"
)
_ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\(([^)]*)\)|\{[^}]*\})")


@dataclass(frozen=True)
class Skipped:
    event_id: int
    language: str
    text: str
    reason: str


@dataclass
class Plan:
    files: dict[Path, str]  # path -> new content (only files that change)
    diffs: dict[Path, str]
    added: int
    skipped: list[Skipped] = field(default_factory=list)
    conflicts: list[Skipped] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.files)

    def as_dict(self, root: Path) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "added": self.added,
            "files": [str(p.relative_to(root)) for p in sorted(self.files)],
            "diff": "".join(self.diffs[p] for p in sorted(self.diffs)),
            "skipped": [s.__dict__ for s in self.skipped],
            "conflicts": [s.__dict__ for s in self.conflicts],
        }


def plain_text(example: str) -> str:
    """An example without entity markup: ``[Berlin](city)`` -> ``Berlin``."""
    return _ENTITY_MARKUP.sub(lambda m: m.group(1), example)


def dedup_key(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", folded).strip()


def read_examples(path: Path) -> dict[str, list[str]]:
    """Examples by intent in one NLU file (lines of each ``examples: |`` block)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found: dict[str, list[str]] = {}
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        lines = str(block.get("examples") or "").splitlines()
        examples = [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]
        found.setdefault(str(block["intent"]), []).extend(examples)
    return found


def existing_examples(nlu_dir: Path) -> dict[str, tuple[str, Path]]:
    """Every example outside the workbench files: dedup key -> (intent, file)."""
    index: dict[str, tuple[str, Path]] = {}
    for path in sorted(nlu_dir.rglob("*.yml")):
        if path.name == FILE_NAME:
            continue
        for intent, examples in read_examples(path).items():
            for example in examples:
                index.setdefault(dedup_key(plain_text(example)), (intent, path))
    return index


def render_example(annotation: Annotation) -> str | None:
    """The annotated message as one example line, personal data synthesized; ``None`` when the
    text cannot be written as a Rasa example (brackets would be read as entity markup)."""
    shown = synthesize(annotation.text)
    text = shown.text
    if re.search(r"[\[\]]", text):
        return None
    pieces: list[str] = []
    cursor = 0
    for span in annotation.entities:
        start, end = shown.to_rendered(span.start, span.end)
        if start < cursor:
            return None
        pieces.append(text[cursor:start])
        pieces.append(f"[{text[start:end]}]({span.entity})")
        cursor = end
    pieces.append(text[cursor:])
    line = re.sub(r"\s+", " ", "".join(pieces)).strip()
    return line or None


def render_file(examples: dict[str, set[str]]) -> str:
    out = [HEADER, "nlu:\n"]
    for intent in sorted(examples):
        if not examples[intent]:
            continue
        out.append(f"- intent: {intent}\n  examples: |\n")
        out.extend(f"    - {line}\n" for line in sorted(examples[intent], key=_sort_key))
    return "".join(out)


def _sort_key(line: str) -> tuple[str, str]:
    return (dedup_key(plain_text(line)), line)


def plan(annotations: Iterable[Annotation], root: Path) -> Plan:
    nlu_dir = root / "data" / "nlu"
    elsewhere = existing_examples(nlu_dir)
    by_language: dict[str, list[Annotation]] = {}
    for annotation in annotations:
        by_language.setdefault(annotation.language, []).append(annotation)
    result = Plan(files={}, diffs={}, added=0)
    languages = set(by_language) | {p.parent.name for p in nlu_dir.glob(f"*/{FILE_NAME}")}
    for language in sorted(languages):
        path = nlu_dir / language / FILE_NAME
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        current: dict[str, dict[str, str]] = {}  # intent -> key -> line
        if old:
            for intent, lines in read_examples(path).items():
                for line in lines:
                    current.setdefault(intent, {})[dedup_key(plain_text(line))] = line
        for annotation in sorted(by_language.get(language, []), key=lambda a: a.event_id):
            rendered = render_example(annotation)
            if rendered is None:
                result.skipped.append(
                    Skipped(annotation.event_id, language, "", "text contains [ or ]")
                )
                continue
            line = rendered
            key = dedup_key(plain_text(line))
            if key in elsewhere:
                intent, where = elsewhere[key]
                skip = Skipped(
                    annotation.event_id,
                    language,
                    plain_text(line),
                    f"already in {where.relative_to(root)} as {intent}",
                )
                (result.conflicts if intent != annotation.intent else result.skipped).append(skip)
                continue
            for intent in list(current):
                if key in current[intent] and intent != annotation.intent:
                    del current[intent][key]
            if current.get(annotation.intent, {}).get(key) != line:
                result.added += 1
            current.setdefault(annotation.intent, {})[key] = line
        if not old and not any(current.values()):
            continue
        new = render_file({i: set(lines.values()) for i, lines in current.items()})
        if new != old:
            result.files[path] = new
            result.diffs[path] = "".join(
                difflib.unified_diff(
                    old.splitlines(keepends=True),
                    new.splitlines(keepends=True),
                    fromfile=f"a/{path.relative_to(root)}",
                    tofile=f"b/{path.relative_to(root)}",
                )
            )
    return result


@dataclass(frozen=True)
class Validation:
    ok: bool
    output: str


Validator = Callable[[Path], Validation]


def rasa_validate(project: Path, timeout: float = 300.0) -> Validation:
    """``rasa data validate`` on a project folder, in a subprocess (it imports TensorFlow)."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    command = [
        rasa, "data", "validate", "--domain", "domain.yml", "--data", "data",
        "--config", "config.yml",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            ["nice", "-n", "10", *command],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Validation(False, f"rasa data validate took more than {timeout:.0f} s")
    output = (done.stdout + done.stderr)[-6000:]
    return Validation(done.returncode == 0, output)


def apply(export: Plan, root: Path, validator: Validator = rasa_validate) -> Validation:
    """Validate a copy of the project with the new files; write them only if it passes."""
    if not export.changed:
        return Validation(True, "nothing to export")
    with tempfile.TemporaryDirectory(prefix="borderless-export-") as tmp:
        copy = Path(tmp)
        for name in ("config.yml", "domain.yml"):
            shutil.copy(root / name, copy / name)
        shutil.copytree(root / "data", copy / "data")
        for path, content in export.files.items():
            target = copy / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content, encoding="utf-8")
        result = validator(copy)
    if result.ok:
        for path, content in export.files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    return result
