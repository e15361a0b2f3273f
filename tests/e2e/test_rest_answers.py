"""Answers and conversation repair through the REST channel, in every language (issue #4).

Same stack as tests/e2e/test_rest.py (the launcher `make run` uses, free ports, temporary
databases). Expected texts are the catalog translations themselves, so a wording change in a
.po file does not break these tests, but an English reply to a German customer does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from babel import Locale

from borderless import launcher, training
from borderless.i18n.catalog import Catalogs
from borderless.i18n.formatting import locale_for
from borderless.settings import PROJECT_ROOT
from tests.e2e.test_rest import TOKEN, Bot, new_sender

pytestmark = pytest.mark.e2e

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]
CATALOGS = Catalogs.load(PROJECT_ROOT / "locales")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    overrides = {"SHOP_API_TOKEN": "e2e-shop-token", "RASA_AUTH_TOKEN": TOKEN,
                 "RASA_MODEL": str(model)}  # fmt: skip
    with launcher.stack(overrides, tmp_path_factory.mktemp("stack")) as env:
        yield Bot(env["RASA_URL"], env["CONSOLE_URL"])


def said(language: str, response: str, **args: Any) -> str:
    """The text of a response in a language, with its arguments filled in."""
    english = RESPONSES[response][0]["text"]
    return CATALOGS.translate(language, response, english).format(**args)


def head(language: str, response: str) -> str:
    """The start of a response's text, up to its first argument (for replies with arguments)."""
    text = said(language, response, **{k: "\x00" for k in _names(response)})
    return text.split("\x00")[0].strip() or text.split("\x00")[1].strip()


def _names(response: str) -> list[str]:
    import string

    english = RESPONSES[response][0]["text"]
    return [name for _, name, _, _ in string.Formatter().parse(english) if name]


# language → (stock question, double charge, order question, shipping question + country,
#             start over)
CASES = {
    "en": ("Is the smartwatch in stock?", "I was charged twice for my order",
           "Where is my order?", ("How long does shipping to the United States take?", "US"),
           "ok let's just start over"),
    "de": ("Ist die Smartwatch auf Lager?", "Mir wurde die Bestellung doppelt abgebucht",
           "Wo ist meine Bestellung?", ("Wie lange dauert der Versand nach Österreich?", "AT"),
           "können wir bitte neu anfangen"),
    "fr": ("La montre connectée est-elle en stock ?", "J'ai été débité deux fois pour ma commande",
           "Où est ma commande ?", ("Combien de temps faut-il pour livrer en France ?", "FR"),
           "on peut tout recommencer s'il vous plaît"),
    "es": ("¿El reloj inteligente está disponible?", "Me cobraron dos veces el pedido",
           "¿Dónde está mi pedido?", ("¿Cuánto tarda el envío a México?", "MX"),
           "podemos volver a empezar por favor"),
    "it": ("L'orologio smart è disponibile?", "Mi avete addebitato due volte l'ordine",
           "Dov'è il mio ordine?", ("Quanto tempo ci vuole per la spedizione in Italia?", "IT"),
           "possiamo ricominciare da capo per favore"),
    "pt": ("O relógio inteligente está em estoque?", "Fui cobrado duas vezes pelo pedido",
           "Cadê meu pedido?", ("Quanto tempo demora o frete para o Brasil?", "BR"),
           "podemos começar tudo de novo por favor"),
    "ja": ("スマートウォッチの在庫はありますか？", "注文の代金が二重に請求されました",
           "注文した商品はどこですか？", ("日本までの配送にはどのくらいかかりますか？", "JP"),
           "最初からやり直せますか"),
    "zh": ("智能手表有货吗？", "我的订单被扣了两次钱", "我的订单到哪里了？",
           ("寄到中国大概需要多久？", "CN"), "能从头开始吗"),
    "ar": ("هل الساعة الذكية متوفرة؟", "تم خصم المبلغ مرتين من بطاقتي", "أين طلبي؟",
           ("كم يستغرق الشحن إلى السعودية؟", "SA"), "هل يمكننا البدء من جديد من فضلك"),
}  # fmt: skip
LANGUAGES = list(CASES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_stock_question_is_answered_from_the_catalog(bot: Bot, language: str) -> None:
    me = new_sender()
    answer = bot.text(me, CASES[language][0])
    assert said(language, "utter_product_in_stock", product="Smartwatch S3") in answer, answer
    assert bot.tracker(me)["slots"]["language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_double_charge_is_explained_and_a_person_offered(bot: Bot, language: str) -> None:
    messages = bot.say(new_sender(), CASES[language][1])
    text = "\n".join(m.get("text", "") for m in messages)
    assert head(language, "utter_payment_double_charge") in text, text
    payloads = [b["payload"] for m in messages for b in m.get("buttons", [])]
    assert "/request_human" in payloads


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_shipping_question_inside_the_order_form_then_back_then_start_over(
    bot: Bot, language: str
) -> None:
    _, _, order_question, (shipping_question, country), start_over = CASES[language]
    me = new_sender()
    asks_number = said(language, "utter_ask_order_number")
    assert asks_number in bot.text(me, order_question)
    aside = bot.text(me, shipping_question)
    names = {Locale.parse(language).territories[country]}
    names.add(locale_for(language, country).territories[country])
    assert any(name in aside for name in names), aside
    assert said(language, "utter_back_to_form") in aside
    assert aside.rstrip().endswith(asks_number), aside  # the form asks again
    tracker = bot.tracker(me)
    assert tracker["active_loop"].get("name") == "order_status_form"
    restarted = bot.text(me, start_over)
    assert said(language, "utter_start_over") in restarted, restarted
    tracker = bot.tracker(me)
    assert not tracker["active_loop"].get("name")
    assert tracker["slots"]["country"] is None and tracker["slots"]["language"] == language


def test_a_product_question_without_a_product_asks_which(bot: Bot) -> None:
    me = new_sender()
    assert said("en", "utter_ask_product") in bot.text(me, "what material is it made of?")
    answer = bot.text(me, "the silk scarf")
    assert "Material of Silk scarf, indigo: 100 % mulberry silk" in answer, answer


def test_customs_to_japan_in_japanese(bot: Bot) -> None:
    answer = bot.text(new_sender(), "日本に送る場合、関税はかかりますか？")
    assert head("ja", "utter_duties_threshold") in answer and "￥10,000" in answer, answer


def test_payment_methods_in_german_for_germany(bot: Bot) -> None:
    answer = bot.text(new_sender(), "Kann ich mit Klarna bezahlen? Ich wohne in Deutschland")
    assert "Klarna" in answer and "SEPA-Überweisung" in answer, answer


# Messages the held-out evaluation saw fall back (bench figures in the report); which ones do
# depends on the model, so the test uses the first that does.
UNSURE_GERMAN = [
    "übliche laufzeit nach Rumänien?",
    "ich will den Seidenschal in einer anderen farbe",
    "wohne in Liechtenstein",
    "die Drohne",
]


def last_intent(bot: Bot, sender: str) -> str:
    users = [e for e in bot.tracker(sender)["events"] if e["event"] == "user"]
    return str(users[-1]["parse_data"]["intent"]["name"])


def test_did_you_mean_then_none_of_these_then_a_person(bot: Bot) -> None:
    me = new_sender()
    bot.text(me, "Guten Tag, ich habe eine Frage")
    for message in UNSURE_GERMAN:
        replies = bot.say(me, message)
        if last_intent(bot, me) == "nlu_fallback":
            break
    else:
        pytest.fail("none of the messages fell back with this model; pick new ones")
    text = "\n".join(r.get("text", "") for r in replies)
    assert said("de", "utter_did_you_mean") in text, text
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert len(buttons) == 3 and buttons[-1]["payload"] == "/deny"
    assert buttons[-1]["title"] == "Etwas anderes"
    assert all(b["payload"].startswith("/") and len(b["title"]) <= 20 for b in buttons)
    # A button re-injects the intent: the first guess is followed like a typed question.
    assert said("de", "utter_ask_rephrase") in bot.text(me, "/deny")
    # Not understood again right after: a person.
    bot.say(me, message)
    assert last_intent(bot, me) == "nlu_fallback"
    tracker = bot.tracker(me)
    tail = [(e["event"], e.get("name") or e.get("text") or "") for e in tracker["events"][-8:]]
    assert tracker["slots"]["handoff_ticket"] or tracker["paused"], tail


def test_a_did_you_mean_button_is_followed_like_a_typed_question(bot: Bot) -> None:
    me = new_sender()
    bot.text(me, "Bonjour, j'ai une question sur un article")
    # A button's payload skips the NLU pipeline: the conversation language stays French.
    answer = bot.text(me, "/product_question")
    assert said("fr", "utter_ask_product") in answer, answer


def test_after_a_side_question_the_order_is_still_looked_up(bot: Bot) -> None:
    me = new_sender()
    assert "order number" in bot.text(me, "where is my order?")
    aside = bot.text(me, "do I have to pay customs to Germany?")
    assert said("en", "utter_duties_included", country="Germany") in aside, aside
    assert "email" in bot.text(me, "BL-10001")
    answer = bot.text(me, "anna.schmidt@example.de")
    assert "BL-10001" in answer and "Germany" in answer, answer
