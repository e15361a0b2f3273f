"""Reply latency of the order-status conversation through the REST channel.

Starts the real stack (reference shop, action server, Rasa with the current model) on free
ports, then times complete turns as a customer sees them:

    .venv/bin/python bench/order_lookup.py [--conversations 30]

Prints p50/p95 per kind of turn (a greeting: NLU + rules only; the lookup turn: NLU, form,
action server, shop lookup, tracking, localized rendering).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from turns import percentile  # bench/ is the script's own folder

from borderless import launcher, training

TURNS = [
    ("greeting", "Hello!"),
    ("lookup, en", "Where is my order BL-10001? My email is anna.schmidt@example.de"),
    ("lookup, de", "Wo ist meine Bestellung BL-10001? E-Mail: anna.schmidt@example.de"),
    ("form step", "where is my order"),
    ("form step", "BL-10002"),
    ("lookup via form", "john.miller@example.com"),
]


def say(rasa_url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", body, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        json.load(response)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--conversations", type=int, default=30)
    args = parser.parse_args()
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    print(f"model: {model.name}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        launcher.stack({"RASA_MODEL": str(model)}, Path(tmp)) as env,
    ):
        say(env["RASA_URL"], "warm-up", TURNS[1][1])  # first call loads lazy parts
        timings: dict[str, list[float]] = {}
        for index in range(args.conversations):
            for kind, text in TURNS:
                timings.setdefault(kind, []).append(say(env["RASA_URL"], f"bench-{index}", text))
    print(f"{'turn':<18}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
    for kind, values in timings.items():
        print(
            f"{kind:<18}{len(values):>5}{percentile(values, 0.5):>10.0f}"
            f"{percentile(values, 0.95):>10.0f}{statistics.mean(values):>10.0f}"
        )


if __name__ == "__main__":
    main()
