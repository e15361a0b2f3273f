"""Export: annotations -> data/nlu/<lang>/workbench.yml, deduplicated, sorted, without personal
data, diffed first and validated by `rasa data validate` before anything is written."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from borderless.workbench import export
from borderless.workbench.annotations import Annotation, EntitySpan
from tests.workbench.conftest import Stack, Workbench

EXISTING = """version: "3.1"
nlu:
- intent: order_status
  examples: |
    - wo ist meine bestellung
    - Wo ist mein Paket [BL-10001](order_number)?
- intent: complaint
  examples: |
    - das ist eine frechheit
"""


def annotation(event_id: int, text: str, intent: str, *spans: EntitySpan, lang: str = "de"):
    return Annotation(
        event_id=event_id,
        sender_id="s",
        text=text,
        language=lang,
        predicted_intent="nlu_fallback",
        intent=intent,
        entities=tuple(spans),
        annotator="lena",
        updated_at=datetime(2026, 11, 23, tzinfo=timezone.utc),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data" / "nlu" / "de").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "de" / "orders.yml").write_text(EXISTING, encoding="utf-8")
    for name in ("config.yml", "domain.yml"):
        (tmp_path / name).write_text("{}\n")
    return tmp_path


def test_plan_writes_sorted_examples_with_synthetic_personal_data(root: Path) -> None:
    text = "Mein Päckchen BL-20002 hängt beim Zoll, schreibt mir an max@mustermann.de"
    start = text.index("BL-20002")
    plan = export.plan(
        [
            annotation(2, text, "order_status", EntitySpan(start, start + 8, "order_number")),
            annotation(1, "Zoll will Gebühren, was nun?", "complaint"),
            annotation(3, "Wo ist meine Bestellung", "order_status"),  # exists: skipped
            annotation(4, "Das ist eine Frechheit!!", "order_status"),  # differs by "!!": kept
            annotation(5, "DAS IST EINE FRECHHEIT", "order_status"),  # exists as complaint
        ],
        root,
    )
    target = root / "data" / "nlu" / "de" / "workbench.yml"
    assert list(plan.files) == [target]
    content = plan.files[target]
    assert "max@mustermann.de" not in content and "BL-20002" not in content
    data = yaml.safe_load(content)
    blocks = {b["intent"]: b["examples"].splitlines() for b in data["nlu"]}
    assert list(blocks) == ["complaint", "order_status"]
    assert blocks["order_status"] == [
        "- Das ist eine Frechheit!!",
        "- Mein Päckchen [BL-10001](order_number) hängt beim Zoll, schreibt mir an"
        " customer@example.com",
    ]
    assert [s.event_id for s in plan.skipped] == [3]
    assert [s.event_id for s in plan.conflicts] == [5]
    assert "as complaint" in plan.conflicts[0].reason
    assert plan.added == 3
    assert "+    - Zoll will Gebühren, was nun?" in plan.diffs[target]


def test_export_is_stable_and_merges_with_earlier_exports(root: Path) -> None:
    first = [annotation(1, "Zoll will Gebühren", "complaint")]
    plan = export.plan(first, root)
    assert export.apply(plan, root, lambda _: export.Validation(True, "ok")).ok
    assert export.plan(first, root).changed is False  # nothing new: no diff
    # The store lost the annotation (new database): the exported example stays.
    assert export.plan([], root).changed is False
    # Annotated again with another intent: the line moves, it is not duplicated.
    moved = export.plan([annotation(1, "Zoll will Gebühren", "shipping_cost")], root)
    content = next(iter(moved.files.values()))
    assert content.count("Zoll will Gebühren") == 1
    assert "- intent: shipping_cost" in content and "- intent: complaint" not in content


def test_a_failed_validation_writes_nothing(root: Path) -> None:
    plan = export.plan([annotation(1, "Zoll will Gebühren", "complaint")], root)
    result = export.apply(plan, root, lambda _: export.Validation(False, "broken"))
    assert not result.ok
    assert not (root / "data" / "nlu" / "de" / "workbench.yml").exists()


def test_text_with_brackets_is_skipped_not_mangled(root: Path) -> None:
    plan = export.plan([annotation(1, "was ist [das]?", "complaint")], root)
    assert not plan.changed and plan.skipped[0].reason == "text contains [ or ]"


@pytest.mark.e2e
def test_export_through_the_api_validates_and_writes(workbench: Workbench, stack: Stack) -> None:
    # The workbench (and its project copy) is shared by the session: the browser test may have
    # exported this very message already. Start from no earlier export, so the line is new.
    (workbench.root / "data" / "nlu" / "de" / "workbench.yml").unlink(missing_ok=True)
    lena = workbench.client("lena")
    status, body = lena.get(f"/api/conversations/{stack.senders['de_misunderstood']}")
    turn = body["turns"][1]
    text = turn["text"]  # the order number is masked for lena
    start = text.index("[order]")
    status, body = lena.post(
        "/api/annotations",
        {
            "event_id": turn["event_id"],
            "intent": "order_status",
            "language": "de",
            "text": text,
            "entities": [{"start": start, "end": start + 7, "entity": "order_number"}],
        },
    )
    assert status == 200, body
    status, diff = lena.get("/api/export")
    assert status == 200 and diff["changed"]
    assert "data/nlu/de/workbench.yml" in diff["files"]
    line = "Mein Päckchen hängt seit Tagen beim Zoll fest, [BL-10001](order_number)"
    assert f"+    - {line}" in diff["diff"]
    status, done = lena.post("/api/export")
    assert status == 200, done
    assert done["valid"] and done["written"]
    written = (workbench.root / "data" / "nlu" / "de" / "workbench.yml").read_text()
    assert line in written
    for path in (workbench.root / "data" / "nlu").rglob("workbench.yml"):
        content = path.read_text()
        assert "anna.schmidt" not in content and "王小明" not in content
    assert lena.get("/api/export")[1]["changed"] is False
