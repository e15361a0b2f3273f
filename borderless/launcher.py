"""``make run``: start every part on the embedded defaults, say what runs where, stop cleanly.

Each part runs as its own process group with its log in ``var/log/<part>.log``; the launcher
waits until each answers its health check before starting the next, and on Ctrl-C (or when any
part dies) stops them all in reverse order.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from borderless.settings import PROJECT_ROOT

LOG_DIR = PROJECT_ROOT / "var" / "log"


@dataclass
class Part:
    name: str
    command: list[str]
    health_url: str
    shown_url: str
    startup_seconds: float
    log_dir: Path = LOG_DIR
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_file(self) -> Path:
        return self.log_dir / f"{self.name}.log"


def parts(env: dict[str, str], log_dir: Path = LOG_DIR) -> list[Part]:
    """Shop, action server and Rasa, configured from ``env`` (ports, URLs, tokens, model)."""
    bin_dir = Path(sys.executable).parent
    python, rasa = str(bin_dir / "python"), str(bin_dir / "rasa")
    shop_port, action_port, rasa_port = env["SHOP_PORT"], env["ACTION_PORT"], env["RASA_PORT"]
    console_port = env["CONSOLE_PORT"]
    storefront_port = env.get("STOREFRONT_PORT", "8090")
    result = [
        Part(
            "shop",
            [python, "-m", "borderless.store", "serve", "--host", "127.0.0.1",
             "--port", shop_port, "--database-url", env["SHOP_DATABASE_URL"],
             "--seed", env["SHOP_SEED_FILE"]]
            # The demo's dates are relative to the moment of seeding: reseed on every start.
            + (["--reset"] if env.get("SHOP_RESET_ON_START", "true") == "true" else []),
            f"http://127.0.0.1:{shop_port}/health",
            f"http://localhost:{shop_port}  (reference shop API; token SHOP_API_TOKEN)",
            30,
        ),
        Part(
            "actions",
            [rasa, "run", "actions", "--actions", "actions", "--port", action_port],
            f"http://127.0.0.1:{action_port}/health",
            f"http://localhost:{action_port}  (action server)",
            60,
        ),
        Part(
            "rasa",
            [rasa, "run", "--model", env.get("RASA_MODEL", "models"), "--enable-api",
             "--auth-token", env["RASA_AUTH_TOKEN"], "--port", rasa_port, "--cors", "*",
             "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
            f"http://127.0.0.1:{rasa_port}/status?token={env['RASA_AUTH_TOKEN']}",
            f"http://localhost:{rasa_port}  (REST: /webhooks/rest/webhook, HTTP API: token"
            " RASA_AUTH_TOKEN)",
            240,
        ),
        Part(
            "console",
            [python, "-m", "borderless.handoff.console", "--port", console_port],
            f"http://127.0.0.1:{console_port}/login",
            f"http://localhost:{console_port}  (agent console; demo agents mia / kenji,"
            " password demo-password)",
            30,
        ),
        Part(
            "storefront",
            [python, "-m", "borderless.channels.widget.storefront", "--port", storefront_port,
             "--rasa-url", env.get("RASA_PUBLIC_URL") or f"http://localhost:{rasa_port}"],
            f"http://127.0.0.1:{storefront_port}/health",
            f"http://localhost:{storefront_port}  (demo storefront with the chat widget;"
            " /?lang=ar etc.)",
            30,
        ),
    ]  # fmt: skip
    if env.get("HANDOFF_DESK") == "chatwoot":
        # Chatwoot's agent-bot webhooks come in here (borderless/handoff/chatwoot.py).
        bridge_port = env.get("CHATWOOT_BRIDGE_PORT", "5090")
        result.append(
            Part(
                "chatwoot",
                [python, "-m", "borderless.handoff.chatwoot", "--port", bridge_port],
                f"http://127.0.0.1:{bridge_port}/health",
                f"http://localhost:{bridge_port}/webhooks/chatwoot?token=CHATWOOT_WEBHOOK_TOKEN"
                "  (Chatwoot agent-bot webhook)",
                30,
            )
        )
    if env.get("WORKBENCH_PORT"):
        workbench_port = env["WORKBENCH_PORT"]
        result.append(
            Part(
                "workbench",
                [python, "-m", "borderless.workbench.app", "--port", workbench_port],
                f"http://127.0.0.1:{workbench_port}/login",
                f"http://localhost:{workbench_port}  (trainer workbench; demo trainers lena /"
                " omar, password demo-password)",
                30,
            )
        )
    for part in result:
        part.log_dir = log_dir
    return result


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def start(part: Part, env: dict[str, str], verbose: bool = True) -> None:
    part.log_file.parent.mkdir(parents=True, exist_ok=True)
    log = part.log_file.open("ab")
    part.process = subprocess.Popen(
        part.command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    started = time.monotonic()
    last_note = started
    while not _healthy(part.health_url):
        if part.process.poll() is not None:
            raise RuntimeError(
                f"{part.name} exited with {part.process.returncode} while starting; "
                f"last lines of {part.log_file}:\n{_tail(part.log_file)}"
            )
        waited = time.monotonic() - started
        if waited > part.startup_seconds:
            raise RuntimeError(
                f"{part.name} did not answer {part.health_url} within {part.startup_seconds:.0f}"
                f" s; last lines of {part.log_file}:\n{_tail(part.log_file)}"
            )
        if verbose and time.monotonic() - last_note >= 10:
            print(f"    … still starting {part.name} ({waited:.0f} s)", flush=True)
            last_note = time.monotonic()
        time.sleep(0.5)
    if verbose:
        print(f"==> {part.name} is up ({time.monotonic() - started:.1f} s)", flush=True)


def stop(running: list[Part], verbose: bool = True) -> None:
    for part in reversed(running):
        process = part.process
        if process is None or process.poll() is not None:
            continue
        if verbose:
            print(f"==> stopping {part.name}", flush=True)
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def stack(overrides: dict[str, str], log_dir: Path) -> Iterator[dict[str, str]]:
    """Shop, actions and Rasa on free loopback ports with temporary databases, for tests and
    benchmarks; yields the environment they run with (``RASA_URL`` included)."""
    names = (
        "SHOP_PORT",
        "ACTION_PORT",
        "RASA_PORT",
        "CONSOLE_PORT",
        "STOREFRONT_PORT",
        "WORKBENCH_PORT",
    )
    ports = {name: str(free_port()) for name in names}
    env = {
        **os.environ,
        **ports,
        "SHOP_URL": f"http://127.0.0.1:{ports['SHOP_PORT']}",
        "SHOP_DATABASE_URL": f"sqlite:///{log_dir / 'shop.db'}",
        "SHOP_SEED_FILE": str(PROJECT_ROOT / "demo" / "orders.yml"),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['ACTION_PORT']}/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{log_dir / 'tracker.db'}",
        "HANDOFF_DATABASE_URL": f"sqlite:///{log_dir / 'handoff.db'}",
        "RASA_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
        "CONSOLE_URL": f"http://127.0.0.1:{ports['CONSOLE_PORT']}",
        "RASA_PUBLIC_URL": f"http://127.0.0.1:{ports['RASA_PORT']}",
        "STOREFRONT_URL": f"http://127.0.0.1:{ports['STOREFRONT_PORT']}",
        "WORKBENCH_URL": f"http://127.0.0.1:{ports['WORKBENCH_PORT']}",
        "WORKBENCH_DATABASE_URL": f"sqlite:///{log_dir / 'workbench.db'}",
        "WORKBENCH_SECRET": os.environ.get("WORKBENCH_SECRET") or "stack-workbench-secret-0123",
        "SANIC_HOST": "127.0.0.1",
        **overrides,
    }
    running: list[Part] = []
    try:
        for part in parts(env, log_dir=log_dir):
            running.append(part)
            start(part, env, verbose=False)
        yield env
    finally:
        stop(running, verbose=False)


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it; a tiny race is fine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    env = dict(os.environ)
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    running: list[Part] = []

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        for part in parts(env):
            print(f"==> starting {part.name} (log: {part.log_file.relative_to(PROJECT_ROOT)})")
            if part.name == "rasa":
                print("    (loading the model takes 20-60 s)", flush=True)
            running.append(part)
            start(part, env)
        print("\nBorderless is running:")
        for part in running:
            print(f"  {part.name:<10} {part.shown_url}")
        print(
            "\nTry it:\n  curl -s localhost:5005/webhooks/rest/webhook -H 'Content-Type: "
            'application/json\' \\\n    -d \'{"sender": "me", "message": "Where is my order '
            "BL-10001? My email is anna.schmidt@example.de\"}'\n  or chat on the demo storefront:"
            f" http://localhost:{env.get('STOREFRONT_PORT', '8090')}\n\nCtrl-C stops everything.",
            flush=True,
        )
        while True:
            for part in running:
                if part.process is not None and part.process.poll() is not None:
                    raise RuntimeError(
                        f"{part.name} stopped unexpectedly ({part.process.returncode}); "
                        f"last lines of {part.log_file}:\n{_tail(part.log_file)}"
                    )
            time.sleep(1)
    except KeyboardInterrupt:
        print("\n==> Ctrl-C received", flush=True)
        return 0
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr, flush=True)
        return 1
    finally:
        stop(running)


if __name__ == "__main__":
    sys.exit(main())
