"""Retrain, compare, activate through the API with a TINY project (a few examples, DIET for a
few epochs) so it takes seconds: trained in the background with progress, evaluated before/after
on its held-out set and the annotated messages, loaded into a running Rasa server beside the old
model (borderless.channels.model_loader) while customers keep talking to it, or discarded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from borderless import training
from borderless.launcher import free_port
from borderless.workbench.retrain import compare, macro_f1
from tests.workbench.conftest import TOKEN, Stack, Workbench

CONFIG = """recipe: default.v1
language: en
assistant_id: tiny
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 3
  - name: DIETClassifier
    epochs: 20
    number_of_transformer_layers: 0
    random_seed: 1
  - name: RegexEntityExtractor
    use_regexes: true
policies:
  - name: RulePolicy
"""
DOMAIN = """version: "3.1"
intents: [greet, order_status, complaint]
entities: [order_number]
responses:
  utter_greet:
  - text: "Hello!"
  utter_order:
  - text: "Let me look."
  utter_sorry:
  - text: "Sorry to hear that."
session_config:
  session_expiration_time: 60
  carry_over_slots_to_new_session: true
"""
NLU = {
    "en": {
        "greet": ["hello", "hi there", "good morning", "hey"],
        "order_status": ["where is my order", "where is my parcel", "has my order shipped",
                         "track my order [BL-10001](order_number)"],
        "complaint": ["this is unacceptable", "I am very unhappy", "terrible service",
                      "I want to complain"],
    },
    "de": {
        "greet": ["hallo", "guten morgen", "servus", "moin"],
        "order_status": ["wo ist meine bestellung", "wo ist mein paket",
                         "wurde meine bestellung verschickt", "bestellung verfolgen"],
        "complaint": ["das ist eine frechheit", "ich bin sehr unzufrieden",
                      "schlechter service", "ich will mich beschweren"],
    },
}  # fmt: skip
HELDOUT = {
    "en": {"greet": ["hello there"], "order_status": ["where's my order"],
           "complaint": ["this is terrible"]},
    "de": {"greet": ["hallo zusammen"], "order_status": ["wo bleibt mein paket"],
           "complaint": ["eine frechheit ist das"]},
}  # fmt: skip
RULES = """version: "3.1"
rules:
- rule: greet
  steps:
  - intent: greet
  - action: utter_greet
- rule: order
  steps:
  - intent: order_status
  - action: utter_order
- rule: complaint
  steps:
  - intent: complaint
  - action: utter_sorry
"""
CREDENTIALS = f"""rest:
borderless.channels.model_loader.ModelLoaderInput:
  token: {TOKEN}
"""
REGEX = """version: "3.1"
nlu:
- regex: order_number
  examples: |
    - BL-\\d{5}
"""


def nlu_yaml(examples: dict[str, list[str]]) -> str:
    blocks = [
        f"- intent: {intent}\n  examples: |\n" + "".join(f"    - {e}\n" for e in lines)
        for intent, lines in examples.items()
    ]
    return 'version: "3.1"\nnlu:\n' + "".join(blocks)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def _say(url: str, sender: str, text: str) -> int:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return int(response.status)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A tiny project, its first model trained, and a Rasa server running that model."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "config.yml").write_text(CONFIG)
    (root / "domain.yml").write_text(DOMAIN)
    for language, examples in NLU.items():
        (root / "data" / "nlu" / language).mkdir(parents=True)
        (root / "data" / "nlu" / language / "basic.yml").write_text(nlu_yaml(examples))
        (root / "tests" / "nlu_heldout" / language).mkdir(parents=True)
        (root / "tests" / "nlu_heldout" / language / "heldout.yml").write_text(
            nlu_yaml(HELDOUT[language])
        )
    (root / "data" / "nlu" / "regex.yml").write_text(REGEX)
    (root / "data" / "rules.yml").write_text(RULES)
    (root / "credentials.yml").write_text(CREDENTIALS)
    model = training.model_path(root)
    command = ["nice", "-n", "10", *training.train_command(model)]
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    port = free_port()
    log = (root / "rasa.log").open("wb")
    rasa = str(Path(sys.executable).with_name("rasa"))
    process = subprocess.Popen(
        ["nice", "-n", "10", rasa, "run", "--enable-api", "--auth-token", TOKEN,
         "--model", str(model), "--port", str(port)],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SANIC_HOST": "127.0.0.1", "PYTHONPATH": str(training.PROJECT_ROOT)},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                _get(f"{url}/status?token={TOKEN}")
                break
            except OSError:
                assert process.poll() is None, (root / "rasa.log").read_text()
                assert time.monotonic() < deadline, (root / "rasa.log").read_text()
                time.sleep(1)
        yield root, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _loading(url: str) -> bool:
    return bool(_get(f"{url}/webhooks/models/?token={TOKEN}")["loading"])


def _put(url: str, body: bytes, token: str | None = TOKEN) -> int:
    suffix = f"?token={token}" if token else ""
    request = urllib.request.Request(
        f"{url}/webhooks/models/active{suffix}", data=body, method="PUT"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def wait_for(client: Any, statuses: tuple[str, ...], timeout: float = 600) -> dict[str, Any]:
    seen_progress = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, state = client.get("/api/retrain")
        assert status == 200
        seen_progress.append(state["progress"])
        if state["status"] in statuses:
            state["seen_progress"] = seen_progress
            return dict(state)
        time.sleep(0.5)
    raise AssertionError(f"retrain still {state['status']} after {timeout} s: {state}")


def test_macro_f1_and_comparison() -> None:
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0
    assert macro_f1([("a", "b"), ("b", "a")]) == 0.0
    examples = [
        {"id": 1, "set": "heldout", "language": "de", "text": "x", "intent": "a"},
        {"id": 2, "set": "heldout", "language": "de", "text": "y", "intent": "b"},
    ]
    before = [{"top_intent": "b"}, {"top_intent": "b"}]
    after = [{"top_intent": "a"}, {"top_intent": "b"}]
    result = compare(examples, before, after)
    (row,) = result["f1"]
    assert row["f1_after"] == 1.0 and row["f1_before"] < 1.0
    assert result["confusions"] == [{"gold": "a", "predicted": "b", "before": 1, "after": 0}]
    assert [c["id"] for c in result["changed"]] == [1] and result["changed"][0]["fixed"]


@pytest.mark.e2e
@pytest.mark.slow
def test_retrain_compare_activate_and_discard(
    tiny: tuple[Path, str], stack: Stack, start_workbench: Any
) -> None:
    root, rasa_url = tiny
    first_model = _get(f"{rasa_url}/status?token={TOKEN}")["model_file"]
    # The model loader refuses what it must, and a broken model leaves the running one in place.
    broken = root / "models" / "broken.tar.gz"
    broken.write_bytes(b"not a model")
    assert _put(rasa_url, json.dumps({"model_file": str(broken)}).encode(), token=None) == 401
    assert _put(rasa_url, json.dumps({"model_file": str(broken)}).encode(), token="wrong") == 401
    assert _put(rasa_url, b'{"model_file": 3}') == 400
    assert _put(rasa_url, json.dumps({"model_file": str(root / "none.tar.gz")}).encode()) == 404
    assert _put(rasa_url, json.dumps({"model_file": str(broken)}).encode()) == 422
    broken.unlink()
    assert _get(f"{rasa_url}/status?token={TOKEN}")["model_file"] == first_model
    assert _say(rasa_url, "after-broken", "hello") == 200
    workbench: Workbench = start_workbench(root, stack.tracker_url, rasa_url)
    lena = workbench.client("lena")
    # The misunderstood German message, annotated and exported into the tiny project.
    turn = lena.get(f"/api/conversations/{stack.senders['de_misunderstood']}")[1]["turns"][1]
    status, body = lena.post(
        "/api/annotations",
        {"event_id": turn["event_id"], "intent": "complaint", "language": "de", "entities": []},
    )
    assert status == 200, body
    status, done = lena.post("/api/export")
    assert status == 200 and done["written"], done

    started = time.monotonic()
    status, state = lena.post("/api/retrain", {"mode": "full"})
    assert status == 202 and state["status"] == "training"
    assert lena.post("/api/retrain", {"mode": "full"})[0] == 409  # one at a time
    state = wait_for(lena, ("ready", "failed"))
    assert state["status"] == "ready", state
    assert any(0 < p < 1 for p in state["seen_progress"]), "the progress bar moved"
    comparison = state["comparison"]
    assert comparison["before_model"].endswith(Path(first_model).name)
    rows = {(r["set"], r["language"]): r for r in comparison["f1"]}
    assert {("heldout", "en"), ("heldout", "de"), ("annotated", "de")} <= set(rows)
    assert all(r["f1_before"] is not None for r in rows.values())
    new_model = Path(state["model"])
    assert new_model.exists() and new_model.name != Path(first_model).name

    # Customers keep talking while the new model is loaded: no request fails, and answers come
    # back while the loader reports the load in progress (it runs beside the old model in a
    # worker thread; Rasa's own PUT /model would hold them until the load ends).
    answers: list[int] = []
    waits: list[float] = []
    served_while_loading = 0
    stop = threading.Event()

    def customers() -> None:
        # A busy shop: a new customer says hello every ~50 ms. (Not one endless conversation:
        # its growing tracker would make every turn slower than the load.)
        nonlocal served_while_loading
        while not stop.is_set():
            began = time.monotonic()
            loading_before = _loading(rasa_url)
            try:
                answers.append(_say(rasa_url, f"while-activating-{len(answers)}", "hello"))
            except OSError:
                answers.append(0)
            if loading_before and _loading(rasa_url):
                served_while_loading += 1
            waits.append(time.monotonic() - began)
            stop.wait(0.05)

    talker = threading.Thread(target=customers)
    talker.start()
    try:
        status, state = lena.post("/api/retrain/activate")
    finally:
        stop.set()
        talker.join()
    assert status == 200 and state["status"] == "activated", state
    assert answers and set(answers) == {200}
    assert served_while_loading > 0, "customers waited for the model load"
    active = _get(f"{rasa_url}/status?token={TOKEN}")["model_file"]
    assert Path(active).name == new_model.name
    seconds = time.monotonic() - started
    print(
        f"\nretrain -> activated (tiny model): {seconds:.0f} s; trained {state['trained_seconds']}"
        f" s, evaluated {state['evaluated_seconds']} s, activated {state['activated_seconds']} s;"
        f" {len(answers)} messages during activation ({served_while_loading} answered while the"
        f" new model loaded), slowest answer {max(waits):.1f} s"
    )

    # Incremental: a second annotation, exported, fine-tuned from the active model, discarded.
    other = lena.get(f"/api/conversations/{stack.senders['gibberish_1']}")[1]["turns"][0]
    lena.post(
        "/api/annotations",
        {"event_id": other["event_id"], "intent": "complaint", "language": "en", "entities": []},
    )
    assert lena.post("/api/export")[1]["written"]
    assert lena.post("/api/retrain", {"mode": "finetune"})[0] == 202
    state = wait_for(lena, ("ready", "failed"))
    assert state["status"] == "ready", state
    finetuned = Path(state["model"])
    assert finetuned.exists()
    status, state = lena.post("/api/retrain/discard")
    assert status == 200 and state["status"] == "discarded"
    assert not finetuned.exists()
    assert lena.post("/api/retrain/activate")[0] == 409  # nothing left to activate
    assert Path(_get(f"{rasa_url}/status?token={TOKEN}")["model_file"]).name == new_model.name


def test_activation_falls_back_to_put_model_only_where_the_loader_is_missing() -> None:
    import http.server

    from borderless.workbench.retrain import RasaModelServer, RasaServerError

    answers: dict[str, tuple[int, bytes]] = {}
    calls: list[str] = []

    class Rasa(http.server.BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            path = self.path.split("?")[0]
            calls.append(path)
            self.rfile.read(int(self.headers["Content-Length"]))
            status, body = answers[path]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    rasa = RasaModelServer(f"http://127.0.0.1:{server.server_address[1]}", TOKEN, timeout=10)
    try:
        answers.update({"/webhooks/models/active": (404, b"not found"), "/model": (204, b"")})
        rasa.activate(Path("/m/new.tar.gz"))
        assert calls == ["/webhooks/models/active", "/model"]
        calls.clear()
        answers["/webhooks/models/active"] = (404, b'{"error": "no model file at /m/x"}')
        with pytest.raises(RasaServerError, match="no model file"):
            rasa.activate(Path("/m/x.tar.gz"))
        answers["/webhooks/models/active"] = (422, b'{"error": "could not be loaded"}')
        with pytest.raises(RasaServerError, match=r"\(422\).*could not be loaded"):
            rasa.activate(Path("/m/broken.tar.gz"))
        assert calls == ["/webhooks/models/active", "/webhooks/models/active"]
    finally:
        server.shutdown()
