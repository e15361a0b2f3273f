"""Turn latency of the order-change flows through the REST channel, on a local stack.

Read-only conversations, so the demo shop can be reused: a refund status in one message, a
cancellation restated and declined, and a return past its window. Prints p50/p95 per turn.

    python -m bench.aftersales_turns [repeats]
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from borderless import launcher, training

CASES = {
    "refund status, one message": [
        "where is my refund? order BL-10016, email jonas.becker@example.de"
    ],
    "cancel: restate, then no": ["please cancel order BL-10041, noah.fischer@example.ch", "no"],
    "return past the window": ["I want to return order BL-10013, email anna.schmidt@example.de"],
}


def say(rasa_url: str, sender: str, message: str) -> None:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(repeats: int = 20) -> None:
    overrides = {
        "SHOP_API_TOKEN": "bench-shop-token",
        "RASA_AUTH_TOKEN": "bench-token",
        "RASA_MODEL": str(training.model_path()),
    }
    with launcher.stack(overrides, Path(tempfile.mkdtemp(prefix="aftersales-"))) as env:
        rasa = env["RASA_URL"]
        say(rasa, "warm-up", "hello")
        for name, turns in CASES.items():
            times: list[list[float]] = [[] for _ in turns]
            for _ in range(repeats):
                sender = f"bench-{uuid.uuid4().hex[:8]}"
                for index, message in enumerate(turns):
                    started = time.perf_counter()
                    say(rasa, sender, message)
                    times[index].append((time.perf_counter() - started) * 1000)
            for index, values in enumerate(times, start=1):
                print(
                    f"{name} / turn {index}: p50 {statistics.median(values):.0f} ms, "
                    f"p95 {percentile(values, 95):.0f} ms (n={len(values)})"
                )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
