"""Chatwoot as the desk, end to end: the real Rasa, action server and shop, a fake Chatwoot.

The stack runs with ``HANDOFF_DESK=chatwoot`` pointed at a local HTTP server that answers like
Chatwoot's application API (documented bodies in ``fixtures/chatwoot``) and records every call.
The bridge's event handling (:func:`borderless.handoff.chatwoot.handle_event`) is driven with the
agent-bot webhook payloads, so the whole loop runs: webhook → Rasa REST → ``action_handoff`` →
Chatwoot (note, ``open``) → paused bot → agent sets ``pending`` → resume + hand-back question.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from borderless import launcher, training
from borderless.handoff.chatwoot import ChatwootApi, RasaRest, handle_event
from borderless.handoff.rasa_api import RasaHttpApi

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "chatwoot"
RASA_TOKEN = "e2e-token"
CHATWOOT_TOKEN = "e2e-chatwoot-token"


def payload(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8")))


@dataclass
class FakeChatwoot:
    url: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    status: str = "pending"

    def messages(self, conversation: int, private: bool) -> list[str]:
        return [
            c["json"]["content"]
            for c in self.calls
            if c["path"].endswith(f"/conversations/{conversation}/messages")
            and c["json"]["private"] is private
        ]


@pytest.fixture(scope="module")
def chatwoot() -> Iterator[FakeChatwoot]:
    fake = FakeChatwoot()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            fake.calls.append({"method": "GET", "path": self.path, "json": None})
            self._answer({**payload("conversation"), "status": fake.status})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.calls.append(
                {
                    "method": "POST",
                    "path": self.path,
                    "json": body,
                    "token": self.headers.get("api_access_token"),
                }
            )
            if self.path.endswith("/toggle_status"):
                fake.status = body["status"]
                answer = payload("toggle_status")
                answer["payload"]["current_status"] = body["status"]
                self._answer(answer)
            else:
                self._answer({**payload("message"), "content": body.get("content")})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def stack(
    chatwoot: FakeChatwoot, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    overrides = {
        "SHOP_API_TOKEN": "e2e-shop-token",
        "RASA_AUTH_TOKEN": RASA_TOKEN,
        "RASA_MODEL": str(model),
        "HANDOFF_DESK": "chatwoot",
        "CHATWOOT_URL": chatwoot.url,
        "CHATWOOT_ACCOUNT_ID": "1",
        "CHATWOOT_API_TOKEN": CHATWOOT_TOKEN,
    }
    with launcher.stack(overrides, tmp_path_factory.mktemp("chatwoot-stack")) as env:
        yield env


def incoming(conversation: int, text: str, status: str = "pending") -> dict[str, Any]:
    event = copy.deepcopy(payload("message_created"))
    event["content"] = text
    event["conversation"]["id"] = conversation
    event["conversation"]["status"] = status
    event["conversation"]["additional_attributes"]["browser_language"] = "en"
    return event


async def test_a_chatwoot_customer_is_handed_to_an_agent_and_back(
    stack: dict[str, str], chatwoot: FakeChatwoot
) -> None:
    api = ChatwootApi(chatwoot.url, 1, "bridge-token")
    rest = RasaRest(stack["RASA_URL"])
    rasa = RasaHttpApi(stack["RASA_URL"], RASA_TOKEN)
    conversation = 501

    outcome = await handle_event(
        incoming(conversation, "I want to talk to a real person please"), api, rest, rasa
    )
    assert outcome.startswith("answered")
    # The action server, as the desk: a private note with the summary, then "open".
    [note] = chatwoot.messages(conversation, private=True)
    assert "Reason: Asked for a person" in note and "Customer language: English (en)" in note
    toggles = [c for c in chatwoot.calls if c["path"].endswith("/toggle_status")]
    assert [t["json"] for t in toggles] == [{"status": "open"}]
    assert toggles[0]["token"] == CHATWOOT_TOKEN
    # The bridge posted what the bot told the customer.
    [told] = chatwoot.messages(conversation, private=False)
    assert "colleague" in told or "team" in told, told
    assert (await rasa.tracker(f"chatwoot-{conversation}"))["paused"]

    # While the agent has it, nothing goes to Rasa and the bot posts nothing.
    posted = len(chatwoot.calls)
    outcome = await handle_event(incoming(conversation, "hello?", "open"), api, rest, rasa)
    assert outcome == "ignored: conversation is open"
    assert len(chatwoot.calls) == posted

    # The agent hands back in Chatwoot: the bot resumes and asks once.
    handed_back = copy.deepcopy(payload("conversation_status_changed"))
    handed_back["id"] = conversation
    assert await handle_event(handed_back, api, rest, rasa) == "handed back"
    assert chatwoot.messages(conversation, private=False)[-1] == (
        "I'm back. Is there anything else I can help you with?"
    )
    assert not (await rasa.tracker(f"chatwoot-{conversation}"))["paused"]

    await handle_event(incoming(conversation, "where is my order?"), api, rest, rasa)
    assert "order number" in chatwoot.messages(conversation, private=False)[-1]
