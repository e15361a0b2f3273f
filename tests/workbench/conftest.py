"""Real conversations for the workbench: the stack `make run` starts (shop, actions, Rasa with
the trained model) on free ports, customers writing through the REST channel, Rasa's SQL
tracker store on a temporary SQLite file; then the workbench as its own process, reading it.

The workbench works on a copy of the project (config, domain, data, held-out set) so exports
never touch this checkout's ``data/``.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from borderless import launcher, training
from borderless.launcher import free_port

REPO = Path(__file__).resolve().parents[2]
TOKEN = "workbench-e2e-token"
SECRET = "workbench-test-secret-long-enough"
PASSWORD = "demo-password"

# What customers say, per conversation (a new sender each). The German one is what the issue's
# story starts with: a message the assistant gets wrong, which a trainer fixes.
CONVERSATIONS: dict[str, list[str]] = {
    "de_misunderstood": ["Hallo", "Mein Päckchen hängt seit Tagen beim Zoll fest, BL-10001"],
    "en_order": ["where is order BL-10001? my email is anna.schmidt@example.de"],
    "en_handoff": ["I want to talk to a real person please"],
    "ja_order": ["注文BL-10002はどこですか？"],
    "ar_shipping": ["كم يستغرق الشحن إلى السعودية؟"],
    "gibberish_1": ["blorp snizzle wug"],
    "gibberish_2": ["Blorp  snizzle wug!"],
    "zh_name": ["你好，我叫王小明，我的订单BL-10003在哪里？"],
}


@dataclass
class Stack:
    env: dict[str, str]
    senders: dict[str, str]

    @property
    def tracker_url(self) -> str:
        return self.env["TRACKER_STORE_URL"]


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    overrides = {
        "SHOP_API_TOKEN": "workbench-shop-token",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
    }
    with launcher.stack(overrides, tmp_path_factory.mktemp("stack")) as env:
        senders = {}
        for name, messages in CONVERSATIONS.items():
            sender = f"{name}-{uuid.uuid4().hex[:6]}"
            senders[name] = sender
            for message in messages:
                _post(
                    f"{env['RASA_URL']}/webhooks/rest/webhook",
                    {"sender": sender, "message": message},
                )
        yield Stack(env, senders)


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    for name in ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "tests" / "nlu_heldout", root / "tests" / "nlu_heldout")
    return root


class TrainerClient:
    """A trainer in the workbench over real HTTP: cookie session, CSRF from /api/session."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> int:
        from urllib.parse import urlencode

        data = urlencode({"username": username, "password": password, "next": "/"}).encode()
        status, _ = self._open(urllib.request.Request(self.url + "/login", data=data))
        if status == 200:
            self.csrf = self.get("/api/session")[1].get("csrf_token", "")
        return status

    def _open(self, request: urllib.request.Request) -> tuple[int, bytes]:
        try:
            with self.opener.open(request, timeout=600) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str) -> tuple[int, Any]:
        status, body = self._open(urllib.request.Request(self.url + path))
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body.decode()

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
            method="POST",
        )
        status, raw = self._open(request)
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode()


@dataclass
class Workbench:
    url: str
    root: Path
    database: Path
    log: Path

    def client(self, username: str | None = None) -> TrainerClient:
        client = TrainerClient(self.url)
        if username:
            assert client.login(username) == 200
        return client


@contextmanager
def run_workbench(
    root: Path, tracker_url: str, rasa_url: str, directory: Path
) -> Iterator[Workbench]:
    port = free_port()
    database = directory / "workbench.db"
    log = directory / "workbench.log"
    env = {
        **os.environ,
        "WORKBENCH_SECRET": SECRET,
        "WORKBENCH_PROJECT": str(root),
        "WORKBENCH_DATABASE_URL": f"sqlite:///{database}",
        "WORKBENCH_TRAINERS_FILE": str(REPO / "demo" / "trainers.yml"),
        "TRACKER_STORE_URL": tracker_url,
        "RASA_URL": rasa_url,
        "RASA_AUTH_TOKEN": TOKEN,
        "SANIC_HOST": "127.0.0.1",
    }
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "borderless.workbench.app", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError("workbench exited:\n" + log.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(url + "/login", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError("workbench did not start:\n" + log.read_text()) from None
                time.sleep(0.3)
        yield Workbench(url, root, database, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def start_workbench(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Path, str, str], Workbench]]:
    with ExitStack() as stack_:

        def start(root: Path, tracker_url: str, rasa_url: str) -> Workbench:
            directory = tmp_path_factory.mktemp("workbench")
            return stack_.enter_context(run_workbench(root, tracker_url, rasa_url, directory))

        yield start


@pytest.fixture(scope="session")
def workbench(
    stack: Stack, project_copy: Path, start_workbench: Callable[[Path, str, str], Workbench]
) -> Workbench:
    return start_workbench(project_copy, stack.tracker_url, stack.env["RASA_URL"])
