"""Whole conversations through the REST channel: real shop, real action server, trained model.

The stack is started once for the module with the same launcher `make run` uses, on free ports,
with temporary SQLite databases for the shop and the tracker store.
"""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from borderless import launcher, training
from borderless.settings import PROJECT_ROOT
from tests.conftest import free_port

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token"


@dataclass
class Bot:
    rasa_url: str

    def say(self, sender: str, message: str, **metadata: Any) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": message}
        if metadata:
            body["metadata"] = metadata
        return _post(f"{self.rasa_url}/webhooks/rest/webhook", body)

    def text(self, sender: str, message: str, **metadata: Any) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, message, **metadata))

    def tracker(self, sender: str) -> dict[str, Any]:
        url = f"{self.rasa_url}/conversations/{sender}/tracker?token={TOKEN}"
        with urllib.request.urlopen(url, timeout=30) as response:
            return dict(json.load(response))


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    # RASA_TEST_MODEL points the tests at another model (e.g. while the data is being edited).
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    tmp = tmp_path_factory.mktemp("stack")
    ports = {name: str(free_port()) for name in ("SHOP_PORT", "ACTION_PORT", "RASA_PORT")}
    env = {
        **os.environ,
        **ports,
        "SHOP_URL": f"http://127.0.0.1:{ports['SHOP_PORT']}",
        "SHOP_API_TOKEN": "e2e-shop-token",
        "SHOP_DATABASE_URL": f"sqlite:///{tmp / 'shop.db'}",
        "SHOP_SEED_FILE": str(PROJECT_ROOT / "demo" / "orders.yml"),
        "ACTION_SERVER_URL": f"http://127.0.0.1:{ports['ACTION_PORT']}/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
        "SANIC_HOST": "127.0.0.1",
    }
    running: list[launcher.Part] = []
    try:
        for part in launcher.parts(env, log_dir=tmp / "log"):
            running.append(part)
            launcher.start(part, env, verbose=False)
        yield Bot(f"http://127.0.0.1:{ports['RASA_PORT']}")
    finally:
        launcher.stop(running, verbose=False)


def new_sender() -> str:
    return f"customer-{uuid.uuid4().hex[:8]}"


def user_texts(tracker: dict[str, Any]) -> list[str]:
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def test_english_step_by_step(bot: Bot) -> None:
    me = new_sender()
    assert "order number" in bot.text(me, "Hi, where is my order?")
    assert "email" in bot.text(me, "BL-10001")
    answer = bot.text(me, "anna.schmidt@example.de")
    assert "BL-10001" in answer and "Germany" in answer
    assert "DHL" in answer and "Expected delivery" in answer
    assert "Latest update" in answer


def test_german_in_one_message(bot: Bot) -> None:
    me = new_sender()
    answer = bot.text(
        me, "Hallo, wo bleibt meine Bestellung BL-10001? Meine E-Mail ist anna.schmidt@example.de"
    )
    assert "Deutschland" in answer and "Voraussichtliche Zustellung" in answer
    assert "DHL" in answer


def test_german_step_by_step_and_short_replies_keep_the_language(bot: Bot) -> None:
    me = new_sender()
    assert "Bestellnummer" in bot.text(me, "Guten Tag, ich warte noch auf mein Paket")
    assert "E-Mail" in bot.text(me, "BL-10001")
    assert "Deutschland" in bot.text(me, "anna.schmidt@example.de")
    assert "In Ordnung" in bot.text(me, "nein")


def test_wrong_email_is_not_told_apart_from_unknown_number(bot: Bot) -> None:
    wrong_email = bot.text(new_sender(), "where is order BL-10001, email mallory@example.com")
    unknown = bot.text(new_sender(), "where is order BL-19999, email anna.schmidt@example.de")
    assert wrong_email == unknown
    assert "couldn't find an order" in unknown
    assert "Germany" not in wrong_email


def test_three_failed_verifications_offer_a_human(bot: Bot) -> None:
    me = new_sender()
    for attempt in range(3):
        messages = bot.say(me, f"my order BL-1000{attempt + 2} email wrong{attempt}@example.com")
    assert any(m.get("buttons") for m in messages)
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/request_human" in payloads


def test_channel_language_hint_wins(bot: Bot) -> None:
    assert "Bestellnummer" in bot.text(new_sender(), "where is my order", language="de-DE")


@pytest.mark.parametrize(
    "message",
    ["", "🙂🙂🙂", "x" * 5000, "where is my order " * 300],
    ids=["empty", "emoji", "5000 chars", "long repeated"],
)
def test_bad_input_gets_a_reply_and_is_kept(bot: Bot, message: str) -> None:
    me = new_sender()
    replies = bot.say(me, message)
    assert replies, "the bot must always answer"
    assert all(r.get("text") for r in replies)
    assert message.strip() in user_texts(bot.tracker(me))


def test_malformed_email_in_the_form_is_explained(bot: Bot) -> None:
    me = new_sender()
    bot.text(me, "where is my order BL-10001")
    answer = bot.text(me, "anna at example dot de")
    assert "doesn't look like an email" in answer
    assert "BL-10001" in bot.text(me, "anna.schmidt@example.de")


def test_tracker_store_keeps_the_conversation(bot: Bot, tmp_path: Path) -> None:
    me = new_sender()
    bot.text(me, "hello")
    bot.text(me, "where is my order BL-10001 anna.schmidt@example.de")
    tracker = bot.tracker(me)
    assert user_texts(tracker)[-2:] == ["hello", "where is my order BL-10001 anna.schmidt@example.de"]
    assert tracker["slots"]["verified_order"] == "BL-10001"
