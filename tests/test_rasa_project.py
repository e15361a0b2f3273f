"""Rasa's own checks on the project: `rasa data validate` and `rasa test` on the test stories."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from borderless.settings import PROJECT_ROOT
from tests.conftest import replay_stories

RASA = str(Path(sys.executable).with_name("rasa"))
# Responses that only actions send (never a story step) are expected to be "unused".
UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
# Intents that only ever come from outside (the agent console's trigger_intent) have no NLU data.
EXTERNAL_INTENT = re.compile(r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not")


def test_rasa_data_validate_warns_only_about_responses_sent_by_actions() -> None:
    result = subprocess.run(
        [RASA, "data", "validate", "--domain", "domain.yml", "--data", "data",
         "--config", "config.yml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    warnings = [line for line in output.splitlines() if "UserWarning" in line]
    unexpected = [
        line
        for line in warnings
        if not UNUSED_RESPONSE.search(line) and not EXTERNAL_INTENT.search(line)
    ]
    assert not unexpected, "rasa data validate warns:\n" + "\n".join(unexpected)


def test_rasa_test_stories_pass(tmp_path: Path) -> None:
    replay_stories("tests/stories", tmp_path)


def test_every_language_story_passes_with_its_nlu(tmp_path: Path) -> None:
    """`rasa test core` replays the intents written in a story; with `--e2e` it parses the user
    text instead, so the nine languages' order-status and shipping-time conversations are
    checked from the customer's words to the bot's actions."""
    replay_stories("tests/stories/test_every_language.yml", tmp_path, "--e2e")
