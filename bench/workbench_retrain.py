"""Time from "Retrain" to an activated model, through the workbench, with the shipped project.

Starts the stack (shop, actions, Rasa with the current model) on free ports and the workbench on
a copy of the project, lets a German customer write a message, annotates it, exports it (so the
data changed), then presses Retrain (full, then incremental ``--finetune``) and Activate
through the workbench's API, and prints how long each step took::

    .venv/bin/python bench/workbench_retrain.py [--modes full finetune]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from borderless import launcher, training
from tests.workbench.conftest import (
    TOKEN,
    _post,
    run_workbench,
)

MESSAGES = ["Mein Päckchen hängt seit Tagen beim Zoll fest", "Die Zollgebühren sind viel zu hoch"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--modes", nargs="+", default=["full", "finetune"])
    args = parser.parse_args()
    import shutil

    model = training.model_path()
    if not model.exists():
        print("run `make train` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "project"
        root.mkdir()
        for name in ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml"):
            shutil.copy(training.PROJECT_ROOT / name, root / name)
        for folder in ("data", "demo", "locales"):
            shutil.copytree(training.PROJECT_ROOT / folder, root / folder)
        shutil.copytree(
            training.PROJECT_ROOT / "tests" / "nlu_heldout", root / "tests" / "nlu_heldout"
        )
        (root / "models").mkdir()
        shutil.copy(model, root / "models" / model.name)
        overrides = {"RASA_AUTH_TOKEN": TOKEN, "RASA_MODEL": str(root / "models" / model.name)}
        with launcher.stack(overrides, Path(tmp)) as env:
            logs = Path(tmp) / "wb"
            logs.mkdir()
            with run_workbench(root, env["TRACKER_STORE_URL"], env["RASA_URL"], logs) as wb:
                trainer = wb.client("lena")
                for number, mode in enumerate(args.modes):
                    sender = f"bench-{uuid.uuid4().hex[:6]}"
                    _post(
                        f"{env['RASA_URL']}/webhooks/rest/webhook",
                        {"sender": sender, "message": MESSAGES[number % len(MESSAGES)]},
                    )
                    turn = trainer.get(f"/api/conversations/{sender}")[1]["turns"][0]
                    trainer.post(
                        "/api/annotations",
                        {"event_id": turn["event_id"], "intent": "complaint",
                         "language": "de", "entities": []},
                    )  # fmt: skip
                    began = time.monotonic()
                    status, done = trainer.post("/api/export")
                    exported = time.monotonic() - began
                    assert status == 200 and done["written"], done
                    began = time.monotonic()
                    assert trainer.post("/api/retrain", {"mode": mode})[0] == 202
                    while True:
                        state = trainer.get("/api/retrain")[1]
                        if state["status"] not in ("training", "evaluating"):
                            break
                        time.sleep(1)
                    if state["status"] != "ready":
                        print(f"{mode}: {state['status']}: {state['error']}")
                        continue
                    status, state = trainer.post("/api/retrain/activate")
                    total = time.monotonic() - began
                    rows = {(r["set"], r["language"]): r for r in state["comparison"]["f1"]}
                    de = rows.get(("heldout", "de"), {})
                    print(
                        f"{mode:<9} export+validate {exported:5.0f} s | retrain→activated "
                        f"{total:5.0f} s (train {state['trained_seconds']} s, evaluate "
                        f"{state['evaluated_seconds']} s, activate {state['activated_seconds']}"
                        f" s) | held-out de F1 {de.get('f1_before')} → {de.get('f1_after')};"
                        f" {len(state['comparison']['changed'])} predictions changed",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
