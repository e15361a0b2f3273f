"""A conversation from the tracker store becomes a Rasa test story in
``tests/stories/workbench_<lang>.yml``, diffed first and checked against the domain before it
is written.

* Each customer message is a ``user`` step with its text, personal data replaced by the fixed
  synthetic values of exports (:func:`borderless.workbench.masking.synthesize`), entities as
  ``[value](type)`` markup on that text, and the intent: the trainer's where the message is
  annotated (intent and entities), else what the assistant predicted.
* The bot's actions follow as ``action`` steps, with ``active_loop`` steps where a form started
  or ended; ``action_listen`` and the session start are left out, and so are slots: their
  values (an address, a contact typed as free text) cannot be masked reliably out of context.
* A story is named ``workbench <hash of the sender id> <date>`` (never the sender id: on some
  channels it is a phone number); saving the same conversation again replaces its story.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from borderless.workbench.annotations import Annotation
from borderless.workbench.conversations import Conversation, Message
from borderless.workbench.export import Validation
from borderless.workbench.masking import synthesize

STORIES_DIR = Path("tests") / "stories"
HEADER = (
    'version: "3.1"\n\n'
    "# Written by the trainer workbench (docs/workbench.md) from real conversations; personal\n"
    "# data is replaced by synthetic values. Saving a conversation again replaces its story.\n\n"
    "stories:\n"
)
SKIPPED_ACTIONS = {"action_listen", "action_session_start", "action_extract_slots"}
# Rasa's default intents and actions: valid in a story without being in domain.yml.
DEFAULT_INTENTS = {"nlu_fallback", "restart", "back", "out_of_scope", "session_start"}
DEFAULT_ACTIONS = {
    "action_listen",
    "action_restart",
    "action_session_start",
    "action_default_fallback",
    "action_deactivate_loop",
    "action_revert_fallback_events",
    "action_default_ask_affirmation",
    "action_default_ask_rephrase",
    "action_two_stage_fallback",
    "action_unlikely_intent",
    "action_back",
    "action_extract_slots",
}
_STORY_LINE = re.compile(r"^  - story: (.*)$", re.M)


def story_key(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8")).hexdigest()[:10]


def story_name(conversation: Conversation) -> str:
    day = datetime.fromtimestamp(conversation.started, timezone.utc).date().isoformat()
    return f"workbench {story_key(conversation.sender_id)} {day}"


def language_of(conversation: Conversation) -> str:
    """The language most of its messages are in (the first one on a tie); ``und`` if none."""
    counts = Counter(m.language for m in conversation.messages if m.language)
    if not counts:
        return "und"
    best = max(counts.values())
    return next(
        m.language for m in conversation.messages if m.language and counts[m.language] == best
    )


def _spans(message: Message, annotation: Annotation | None) -> list[tuple[int, int, str]]:
    if annotation is not None:
        return [(s.start, s.end, s.entity) for s in annotation.entities]
    spans = []
    for entity in message.entities:
        start, end, name = entity.get("start"), entity.get("end"), entity.get("entity")
        if not (isinstance(start, int) and isinstance(end, int) and name):
            continue
        if 0 <= start < end <= len(message.text):
            spans.append((start, end, str(name)))
    return spans


def render_user_text(
    text: str, spans: list[tuple[int, int, str]], entity_names: set[str] | None = None
) -> str:
    """The text with synthetic personal data and ``[value](type)`` markup, on one line.
    Brackets of the customer's own become parentheses (they would read as markup); overlapping
    spans (two extractors, same value) keep the first; types not in the domain are dropped."""
    shown = synthesize(text)
    rendered = shown.text.replace("[", "(").replace("]", ")")
    pieces: list[str] = []
    cursor = 0
    for start, end, name in sorted(spans):
        if entity_names is not None and name not in entity_names:
            continue
        new_start, new_end = shown.to_rendered(start, end)
        if new_start < cursor:
            continue
        pieces.append(rendered[cursor:new_start])
        pieces.append(f"[{rendered[new_start:new_end]}]({name})")
        cursor = new_end
    pieces.append(rendered[cursor:])
    return re.sub(r"\s+", " ", "".join(pieces)).strip()


def render_story(
    conversation: Conversation,
    annotations: Mapping[int, Annotation],
    entity_names: set[str] | None = None,
) -> str:
    """One story block (indented for the ``stories:`` list of the file)."""
    lines = [f"  - story: {story_name(conversation)}\n", "    steps:\n"]
    for message in conversation.messages:
        annotation = annotations.get(message.event_id)
        intent = annotation.intent if annotation else message.intent
        text = render_user_text(message.text, _spans(message, annotation), entity_names)
        if not text or not intent:
            continue
        lines += ["      - user: |\n", f"          {text}\n", f"        intent: {intent}\n"]
        for kind, name in message.steps:
            if kind == "action" and name and name not in SKIPPED_ACTIONS:
                lines.append(f"      - action: {name}\n")
            elif kind == "active_loop":
                lines.append(f"      - active_loop: {name or 'null'}\n")
    return "".join(lines)


def split_stories(content: str) -> tuple[str, list[tuple[str, str]]]:
    """A file's text before its first story, and each story block with its name."""
    matches = list(_STORY_LINE.finditer(content))
    if not matches:
        return content, []
    blocks = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(content)
        block = content[match.start() : end]
        blocks.append((match.group(1).strip(), block if block.endswith("\n") else block + "\n"))
    return content[: matches[0].start()], blocks


@dataclass
class StoryPlan:
    path: Path
    story: str
    content: str  # the whole file after saving
    diff: str
    replaced: bool
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.diff)

    def as_dict(self, root: Path) -> dict[str, Any]:
        return {
            "file": str(self.path.relative_to(root)),
            "story": self.story,
            "changed": self.changed,
            "replaced": self.replaced,
            "diff": self.diff,
            "problems": self.problems,
        }


def plan(
    conversation: Conversation, annotations: Mapping[int, Annotation], root: Path
) -> StoryPlan:
    labels = domain_labels(root / "domain.yml")
    story = render_story(conversation, annotations, labels["entities"])
    path = root / STORIES_DIR / f"workbench_{language_of(conversation)}.yml"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    head, blocks = split_stories(old) if old else (HEADER, [])
    if not head.endswith("\n"):
        head += "\n"
    name = story_name(conversation)
    key = f"workbench {story_key(conversation.sender_id)} "
    replaced = False
    new_blocks: list[str] = []
    for block_name, block in blocks:
        if block_name.startswith(key) or block_name == name:
            if not replaced:
                new_blocks.append(story)
            replaced = True
        else:
            new_blocks.append(block)
    if not replaced:
        new_blocks.append(story)
    new = head + "".join(new_blocks)
    relative = path.relative_to(root)
    diff = "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True),
            new.splitlines(keepends=True),
            fromfile=f"a/{relative}",
            tofile=f"b/{relative}",
        )
    )
    return StoryPlan(path, story, new, diff, replaced, problems=check(new, labels))


def domain_labels(domain_file: Path) -> dict[str, set[str]]:
    """Intents, entities, forms and actions (with responses and forms) a story may use."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}

    def names(items: Any) -> set[str]:
        if isinstance(items, dict):
            return {str(k) for k in items}
        return {(str(next(iter(i))) if isinstance(i, dict) else str(i)) for i in items or []}

    return {
        "intents": names(domain.get("intents")) | DEFAULT_INTENTS,
        "entities": names(domain.get("entities")),
        "forms": names(domain.get("forms")),
        "actions": names(domain.get("actions"))
        | names(domain.get("responses"))
        | names(domain.get("forms"))
        | DEFAULT_ACTIONS,
    }


def check(content: str, labels: Mapping[str, set[str]]) -> list[str]:
    """What is wrong with a stories file: YAML, shape, intents/actions/entities not in the
    domain. Empty when it is fine."""
    try:
        data = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        return [f"not valid YAML: {exc}"]
    stories = data.get("stories") if isinstance(data, dict) else None
    if not isinstance(stories, list):
        return ["no stories list"]
    problems: list[str] = []
    for story in stories:
        name = story.get("story") if isinstance(story, dict) else None
        steps = story.get("steps") if isinstance(story, dict) else None
        if not name or not isinstance(steps, list):
            problems.append(f"story {name or '?'} has no name or steps")
            continue
        for step in steps:
            if not isinstance(step, dict):
                problems.append(f"{name}: a step is not a mapping")
                continue
            if "user" in step:
                intent = step.get("intent")
                if intent not in labels["intents"]:
                    problems.append(f"{name}: intent {intent} is not in the domain")
                for entity in re.findall(r"\]\(([^)]*)\)", str(step["user"])):
                    if entity not in labels["entities"]:
                        problems.append(f"{name}: entity {entity} is not in the domain")
            elif "action" in step and step["action"] not in labels["actions"]:
                problems.append(f"{name}: action {step['action']} is not in the domain")
            elif step.get("active_loop") not in (None, *labels["forms"]):
                problems.append(f"{name}: form {step['active_loop']} is not in the domain")
    return problems


StoryValidator = Callable[[StoryPlan], Validation]


def domain_check(story_plan: StoryPlan) -> Validation:
    if story_plan.problems:
        return Validation(False, "\n".join(story_plan.problems))
    return Validation(True, "the stories use only intents, entities and actions of the domain")


def apply(story_plan: StoryPlan, validator: StoryValidator = domain_check) -> Validation:
    """Write the file only if the validator accepts it."""
    if not story_plan.changed:
        return Validation(True, "nothing to save: the story is already there")
    result = validator(story_plan)
    if result.ok:
        story_plan.path.parent.mkdir(parents=True, exist_ok=True)
        story_plan.path.write_text(story_plan.content, encoding="utf-8")
    return result
