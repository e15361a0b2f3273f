"""Shared fixtures: the real reference shop, started as a subprocess on a free loopback port.

Tests talk to the shop over HTTP exactly as the assistant does, so the Sanic app, the SQL schema,
the seeding and the adapter are all exercised together; only the database file is temporary.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from borderless.launcher import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURE = REPO_ROOT / "demo" / "orders.yml"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class ShopService:
    base_url: str
    api_token: str
    database_url: str
    log_path: Path


def replay_stories(stories: Path | str, out: Path, *extra: str) -> None:
    """``rasa test core`` on ``stories`` with the trained model (``RASA_TEST_MODEL`` or the one
    ``make train`` made), failing the test with Rasa's output and the failed stories."""
    from borderless import training

    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("rasa")), "test", "core", "--model", str(model),
         "--stories", str(stories), *extra, "--out", str(out),
         "--fail-on-prediction-errors", "--no-plot"],
        cwd=training.PROJECT_ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:] + "\n" + details


@contextmanager
def run_shop(
    database_url: str, log_path: Path, api_token: str = "test-shop-token"
) -> Iterator[ShopService]:
    """Start ``python -m borderless.store serve`` and stop it again, whatever happens between."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "borderless.store",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
        "--seed",
        str(FIXTURE),
    ]
    env = {**os.environ, "SHOP_API_TOKEN": api_token, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    service = ShopService(f"http://127.0.0.1:{port}", api_token, database_url, log_path)
    try:
        _wait_until_healthy(process, service)
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_healthy(process: subprocess.Popen[bytes], service: ShopService) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the shop exited with code {process.returncode} before becoming healthy:\n"
                + service.log_path.read_text(errors="replace")
            )
        try:
            with urllib.request.urlopen(service.base_url + "/health", timeout=1) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"the shop did not answer /health within {START_TIMEOUT:g}s; its output:\n"
        + service.log_path.read_text(errors="replace")
    )


@pytest.fixture
def start_shop(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], ShopService]]:
    """Factory for shops on other databases (PostgreSQL), stopped when the test ends."""
    with ExitStack() as stack:

        def start(database_url: str) -> ShopService:
            log_path = tmp_path_factory.mktemp("shop") / "shop.log"
            return stack.enter_context(run_shop(database_url, log_path))

        yield start


@pytest.fixture(scope="session")
def shop_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopService]:
    """The reference shop on a fresh SQLite file seeded from demo/orders.yml."""
    directory = tmp_path_factory.mktemp("shop-sqlite")
    with run_shop(f"sqlite:///{directory / 'shop.db'}", directory / "shop.log") as service:
        yield service


@pytest.fixture(name="free_port")
def free_port_fixture() -> int:
    """A loopback port with nothing listening: a backend that is down."""
    return free_port()


@pytest.fixture
async def hanging_server() -> AsyncIterator[str]:
    """A backend that accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept_and_ignore(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


@pytest.fixture(scope="session")
def shop_orders() -> dict[str, dict[str, Any]]:
    """The demo fixture's orders by number, to look up the phone or email an order has."""
    orders = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))["orders"]
    return {order["number"]: order for order in orders}


POSTGRES_URL = os.environ.get(
    "BORDERLESS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
POSTGRES_START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database URL whose search_path is a fresh, uniquely named schema, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}, future=True)
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({reason}); start: {POSTGRES_START_HINT}"
        )
    name = f"borderless_test_{uuid.uuid4().hex[:12]}"  # one schema per test, dropped after
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


CHROMIUM = Path(os.environ.get("BORDERLESS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_INSTALL_HINT = "apt-get install -y chromium chromium-driver  (or: make browser)"
# Flags for a closed network: without them Chromium keeps calling Google's hosts at start.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (``executable_path``; nothing is downloaded).

    Module-scoped on purpose: while Playwright's sync API is alive its event loop counts as
    running, and the async tests of later modules would fail to start theirs.

    Browser tests use it through ``browser_page``; a missing Chromium is a failure with the
    command that installs it, not a silent skip: the issues ask for these tests to run.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install it: {CHROMIUM_INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser context (own cookies and storage) and page; screenshots go to
    ``tmp_path / "screenshots"`` via ``page.shot(name)``; one is always taken at the end."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(15_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()

    def shot(name: str) -> Path:
        path = shots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    page.shot = shot
    try:
        yield page
    finally:
        try:
            shot("zz-final")
        finally:
            context.close()
