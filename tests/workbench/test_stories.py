"""Save as test story: a conversation -> tests/stories/workbench_<lang>.yml, personal data
synthesized, the trainer's corrections used, one story per conversation, diffed first and
checked against the domain before anything is written."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from borderless.workbench import stories
from borderless.workbench.annotations import Annotation, EntitySpan
from borderless.workbench.conversations import build_conversation
from borderless.workbench.export import Validation
from tests.conftest import replay_stories
from tests.workbench.conftest import Stack, Workbench

DOMAIN = """version: "3.1"
intents:
  - greet
  - order_status
  - complaint
entities:
  - order_number
  - email
actions:
  - action_check_order_status
forms:
  order_status_form:
    required_slots: []
responses:
  utter_greet:
    - text: hi
"""
EMAIL = "anna.schmidt@example.de"
T0 = datetime(2026, 11, 23, 10, tzinfo=timezone.utc).timestamp()


def row(event_id: int, kind: str, data: dict[str, Any], action: str | None = None) -> Any:
    return SimpleNamespace(
        id=event_id,
        sender_id="+491701234567",
        type_name=kind,
        timestamp=T0 + event_id,
        intent_name=None,
        action_name=action,
        data=json.dumps(data),
    )


def user(event_id: int, text: str, intent: str, *entities: dict[str, Any]) -> Any:
    parse = {
        "intent": {"name": intent, "confidence": 0.9},
        "entities": list(entities),
        "language_detection": {"language": "de"},
    }
    return row(event_id, "user", {"text": text, "parse_data": parse})


def action(event_id: int, name: str) -> Any:
    return row(event_id, "action", {"name": name}, action=name)


TEXT = f"Wo ist BL-20002? Mail: {EMAIL}"
START = TEXT.index("BL-20002")


def conversation() -> Any:
    return build_conversation(
        "+491701234567",
        [
            action(1, "action_session_start"),
            action(2, "action_listen"),
            user(3, "Hallo [du]", "greet"),
            action(4, "utter_greet"),
            action(5, "action_listen"),
            user(
                6,
                TEXT,
                "nlu_fallback",
                {"start": START, "end": START + 8, "entity": "order_number", "value": "BL-20002"},
                {"start": START, "end": START + 8, "entity": "order_number", "value": "BL-20002"},
            ),
            action(7, "action_default_fallback"),
            action(8, "action_listen"),
            user(9, "wo ist meine Bestellung", "order_status"),
            action(10, "order_status_form"),
            row(11, "active_loop", {"name": "order_status_form"}),
            row(12, "slot", {"name": "requested_slot", "value": "order_number"}),
            action(13, "action_listen"),
        ],
    )


def corrected() -> dict[int, Annotation]:
    email = TEXT.index(EMAIL)
    annotation = Annotation(
        event_id=6,
        sender_id="+491701234567",
        text=TEXT,
        language="de",
        predicted_intent="nlu_fallback",
        intent="order_status",
        entities=(
            EntitySpan(START, START + 8, "order_number"),
            EntitySpan(email, email + len(EMAIL), "email"),
        ),
        annotator="lena",
        updated_at=datetime(2026, 11, 23, tzinfo=timezone.utc),
    )
    return {6: annotation}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    return tmp_path


def test_a_conversation_becomes_a_story_without_personal_data(root: Path) -> None:
    plan = stories.plan(conversation(), {}, root)
    assert plan.path == root / "tests" / "stories" / "workbench_de.yml"
    assert EMAIL not in plan.content and "BL-20002" not in plan.content
    assert "+491701234567" not in plan.content  # the sender id is hashed
    data = yaml.safe_load(plan.content)
    (story,) = data["stories"]
    key = stories.story_key("+491701234567")
    assert story["story"] == f"workbench {key} 2026-11-23"
    assert story["steps"] == [
        {"user": "Hallo (du)\n", "intent": "greet"},
        {"action": "utter_greet"},
        {
            "user": "Wo ist [BL-10001](order_number)? Mail: customer@example.com\n",
            "intent": "nlu_fallback",
        },
        {"action": "action_default_fallback"},
        {"user": "wo ist meine Bestellung\n", "intent": "order_status"},
        {"action": "order_status_form"},
        {"active_loop": "order_status_form"},
    ]
    assert plan.problems == []
    assert plan.diff.startswith("--- a/tests/stories/workbench_de.yml")
    assert "+      - action: utter_greet" in plan.diff


def test_the_trainers_intent_and_entities_win(root: Path) -> None:
    plan = stories.plan(conversation(), corrected(), root)
    steps = yaml.safe_load(plan.content)["stories"][0]["steps"]
    assert steps[2] == {
        "user": "Wo ist [BL-10001](order_number)? Mail: [customer@example.com](email)\n",
        "intent": "order_status",
    }


def test_saving_again_replaces_the_story_and_keeps_others(root: Path) -> None:
    path = root / "tests" / "stories" / "workbench_de.yml"
    path.parent.mkdir(parents=True)
    other = (
        "  - story: workbench 0000000000 2026-11-01\n    steps:\n      - user: |\n"
        "          hallo\n        intent: greet\n"
    )
    path.write_text(stories.HEADER + other, encoding="utf-8")
    first = stories.plan(conversation(), {}, root)
    assert not first.replaced
    assert stories.apply(first).ok
    assert stories.plan(conversation(), {}, root).changed is False
    second = stories.plan(conversation(), corrected(), root)
    assert second.replaced and second.changed
    assert "-        intent: nlu_fallback" in second.diff
    assert "+        intent: order_status" in second.diff
    assert stories.apply(second).ok
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    names = [s["story"] for s in data["stories"]]
    assert len(names) == 2 and names[0] == "workbench 0000000000 2026-11-01"


def test_unknown_intents_or_actions_are_not_written(root: Path) -> None:
    plan = stories.plan(conversation(), {}, root)
    (root / "domain.yml").write_text(DOMAIN.replace("  - greet\n", ""), encoding="utf-8")
    plan = stories.plan(conversation(), {}, root)
    assert any("intent greet" in p for p in plan.problems)
    result = stories.apply(plan)
    assert not result.ok and "greet" in result.output
    assert not plan.path.exists()
    assert not stories.apply(plan, lambda _: Validation(False, "no")).ok


@pytest.mark.e2e
def test_save_a_real_conversation_through_the_api(workbench: Workbench, stack: Stack) -> None:
    sender = stack.senders["en_order"]
    lena = workbench.client("lena")
    status, preview = lena.get(f"/api/conversations/{sender}/story")
    assert status == 200, preview
    assert preview["file"] == "tests/stories/workbench_en.yml"
    assert preview["changed"] and "+  - story: workbench" in preview["diff"]
    assert "anna.schmidt" not in preview["diff"]
    page = lena.get(f"/conversations/{sender}")[1]
    assert "Save as test story" in page and f"/conversations/{sender}/story" in page
    status, page = lena.get(f"/conversations/{sender}/story")
    assert status == 200 and 'id="story-button"' in page and "anna.schmidt" not in page
    forged = workbench.client("lena")
    forged.csrf = "forged"
    assert forged.post(f"/api/conversations/{sender}/story")[0] == 403
    status, done = lena.post(f"/api/conversations/{sender}/story")
    assert status == 200, done
    assert done["written"] and done["valid"]
    path = workbench.root / "tests" / "stories" / "workbench_en.yml"
    content = path.read_text(encoding="utf-8")
    assert "anna.schmidt" not in content and "BL-10001" in content
    (story,) = [
        s
        for s in yaml.safe_load(content)["stories"]
        if s["story"].startswith(f"workbench {stories.story_key(sender)} ")
    ]
    assert story["steps"][0]["intent"] and "user" in story["steps"][0]
    assert any("action" in step for step in story["steps"])
    assert lena.get(f"/api/conversations/{sender}/story")[1]["changed"] is False
    assert lena.get("/api/conversations/no-such-sender/story")[0] == 404

    # The saved story is a real regression test: `rasa test` replays it against the model that
    # had the conversation (as `make test` does with every file under tests/stories/).
    replay_stories(path, workbench.root / "replay")


def test_a_form_missing_from_the_domain_is_a_problem(root: Path) -> None:
    labels = stories.domain_labels(root / "domain.yml")
    content = stories.HEADER + (
        "  - story: s\n    steps:\n      - active_loop: gone_form\n      - active_loop: null\n"
    )
    assert stories.check(content, labels) == ["s: form gone_form is not in the domain"]
    assert stories.check("stories: [", labels)[0].startswith("not valid YAML")
