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

pytestmark = pytest.mark.e2e

TOKEN = "e2e-token"


@dataclass
class Bot:
    rasa_url: str
    console_url: str = ""

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
    overrides = {
        "SHOP_API_TOKEN": "e2e-shop-token",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
    }
    with launcher.stack(overrides, tmp_path_factory.mktemp("stack")) as env:
        yield Bot(env["RASA_URL"], env["CONSOLE_URL"])


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
    lookup = "where is my order BL-10001 anna.schmidt@example.de"
    bot.text(me, lookup)
    tracker = bot.tracker(me)
    assert user_texts(tracker)[-2:] == ["hello", lookup]
    assert tracker["slots"]["verified_order"] == "BL-10001"


# One customer per language: where is my order (everything in one message), and how long
# shipping to their country takes. The answer must be in their language, with the country
# named and the dates formatted the way CLDR says for that language.
NINE_LANGUAGES = {
    "en": ("Where is my order BL-10002? My email is john.miller@example.com",
           "How long does shipping to the United States take?", "US"),
    "de": ("Wo ist meine Bestellung BL-10001? Meine E-Mail ist anna.schmidt@example.de",
           "Wie lange dauert der Versand nach Österreich?", "AT"),
    "fr": ("Où est ma commande BL-10001 ? Mon e-mail est anna.schmidt@example.de",
           "Combien de temps faut-il pour livrer en France ?", "FR"),
    "es": ("¿Dónde está mi pedido BL-10001? Mi correo es anna.schmidt@example.de",
           "¿Cuánto tarda el envío a México?", "MX"),
    "it": ("Dov'è il mio ordine BL-10001? La mia email è anna.schmidt@example.de",
           "Quanto tempo ci vuole per la spedizione in Italia?", "IT"),
    "pt": ("Cadê meu pedido BL-10001? Meu e-mail é anna.schmidt@example.de",
           "Quanto tempo demora o frete para o Brasil?", "BR"),
    "ja": ("注文BL-10001はどこですか？メールはanna.schmidt@example.deです",
           "日本までの配送にはどのくらいかかりますか？", "JP"),
    "zh": ("我的订单BL-10001到哪里了？邮箱是anna.schmidt@example.de",
           "寄到中国大概需要多久？", "CN"),
    "ar": ("أين طلبي BL-10001؟ بريدي الإلكتروني anna.schmidt@example.de",
           "كم يستغرق الشحن إلى السعودية؟", "SA"),
}  # fmt: skip


@pytest.mark.parametrize("language", list(NINE_LANGUAGES))
def test_order_status_and_shipping_time_in_every_language(bot: Bot, language: str) -> None:
    from babel import Locale

    from borderless.i18n.formatting import locale_for

    order_question, shipping_question, country = NINE_LANGUAGES[language]
    me = new_sender()
    answer = bot.text(me, order_question)
    assert "BL-10001" in answer or "BL-10002" in answer, answer
    assert bot.tracker(me)["slots"]["language"] == language
    if language != "en":
        assert "Expected delivery" not in answer, answer
    asker = new_sender()
    shipping = bot.text(asker, shipping_question)
    assert bot.tracker(asker)["latest_message"]["intent"]["name"] == "shipping_time", shipping
    assert (
        Locale.parse(language).territories[country] in shipping
        or locale_for(language, country).territories[country] in shipping
    ), shipping
    if language != "en":
        assert "Standard shipping" not in shipping, shipping


def test_an_unsupported_language_gets_the_list_of_supported_ones(bot: Bot) -> None:
    answer = bot.text(new_sender(), "Где мой заказ? Я жду уже две недели")
    assert "Deutsch" in answer and "日本語" in answer and "العربية" in answer


class Agent:
    """An agent in the console, through its real HTTP pages (cookie session, CSRF tokens)."""

    def __init__(self, console_url: str, username: str, password: str) -> None:
        import http.cookiejar

        self.url = console_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        self.post("/login", {"username": username, "password": password, "next": "/"})

    def get(self, path: str) -> str:
        with self.opener.open(self.url + path, timeout=30) as response:
            return str(response.read().decode())

    def post(self, path: str, form: dict[str, str]) -> str:
        from urllib.parse import urlencode

        data = urlencode(form).encode()
        with self.opener.open(self.url + path, data=data, timeout=30) as response:
            return str(response.read().decode())

    def act(self, ticket: str, action: str, **form: str) -> str:
        import re

        page = self.get(f"/tickets/{ticket}")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:500]
        return self.post(f"/tickets/{ticket}/{action}", {"csrf_token": token.group(1), **form})


def test_a_person_takes_over_replies_and_hands_back(bot: Bot) -> None:
    me = new_sender()
    handover = bot.text(me, "I want to talk to a real person please")
    assert "colleague" in handover or "team" in handover, handover
    ticket = bot.tracker(me)["slots"]["handoff_ticket"]
    assert ticket
    # While a person holds the conversation the bot is silent, and nothing is lost.
    assert bot.say(me, "hello? is anyone there?") == []
    assert "hello? is anyone there?" in user_texts(bot.tracker(me))
    agent = Agent(bot.console_url, "mia", "demo-password")
    assert "hello? is anyone there?" in agent.get(f"/tickets/{ticket}")
    agent.act(ticket, "take")
    agent.act(ticket, "reply", text="Hi, this is Mia from the team. How can I help?")
    bot_texts = [e.get("text") for e in bot.tracker(me)["events"] if e["event"] == "bot"]
    assert "Hi, this is Mia from the team. How can I help?" in bot_texts
    agent.act(ticket, "resolve")
    tracker = bot.tracker(me)
    assert not tracker["paused"] and tracker["slots"]["handoff_ticket"] is None
    # The bot is back and answers the next message itself.
    assert "order number" in bot.text(me, "where is my order?")


def test_a_phone_claimed_in_rest_metadata_proves_nothing(bot: Bot, shop_orders: dict) -> None:
    """Only WhatsApp connectors vouch for the sender's number (tests/actions/test_orders.py); a
    REST client can put anyone's phone in the metadata, so it is still asked for the contact."""
    phone = shop_orders["BL-10001"]["phone"]
    answer = bot.text(new_sender(), "where is my order BL-10001", phone=phone)
    assert "Germany" not in answer and "email address or phone number" in answer
