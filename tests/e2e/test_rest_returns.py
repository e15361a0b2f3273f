"""Returns, refund status, cancellation and address change through the REST channel, in nine
languages: real shop (its own, seeded from demo/orders.yml), real action server, trained model.

Each language has its own orders (demo/orders.yml, "Returns and cancellations"), so the
conversations can really change them; the messages are written the way a customer of that
language writes them.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.e2e.test_rest import Bot, bot, new_sender

__all__ = ["bot"]  # the module-scoped stack fixture, shared with this module

pytestmark = pytest.mark.e2e


def payloads(messages: list[dict]) -> list[str]:
    return [b["payload"] for m in messages for b in m.get("buttons", [])]


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def inform(**entities: str) -> str:
    return "/inform" + json.dumps(entities)


# language: (first message, contact, items answer or None when only one line can go back,
#            reason answer, words of the localized confirmation, reference)
RETURNS = {
    "en": ("I want to return my order BL-10027", "ashley.carter@example.com",
           inform(product="Noise-cancelling headphones"), inform(return_reason="damaged"),
           "I've registered return", "R10027-1"),
    "de": ("Ich möchte meine Bestellung BL-10028 zurückschicken", "felix.wagner@example.de",
           "alles", "Die Taste E klemmt leider", "Rücksendung", "R10028-1"),
    "fr": ("Je souhaite retourner ma commande BL-10017", "lea.martin@example.net",
           None, inform(return_reason="not_as_described"), "retour", "R10017-1"),
    "es": ("Quiero hacer una devolución del pedido BL-10020", "javier.lopez@example.org",
           None, "La lente del proyector llegó rayada", "devolución", "R10020-1"),
    "it": ("Vorrei restituire un prodotto dell'ordine BL-10030", "francesca.romano@example.it",
           "tutto", inform(return_reason="changed_mind"), "reso", "R10030-1"),
    "pt": ("Quero fazer uma devolução do pedido BL-10029", "mariana.costa@example.com",
           inform(product="Sport strap, black"), inform(return_reason="wrong_size"),
           "devolução", "R10029-1"),
    "ja": ("注文BL-10004を返品したいです", "yuki.tanaka@example.jp",
           None, inform(return_reason="damaged"), "返品", "R10004-1"),
    "zh": ("我要退货，订单号是BL-10031", "wang.fang@example.cn",
           None, "音箱有杂音", "退货", "R10031-1"),
    "ar": ("أريد إرجاع منتج من الطلب BL-10025", "omar.alfarsi@example.org",
           "الكل", inform(return_reason="changed_mind"), "الإرجاع", "R10025-1"),
}  # fmt: skip

# What only the English text says: a translated reply must not contain it.
ENGLISH_MARKERS = ("I've registered", "Please pack", "Shall I", "Done:", "original payment")


@pytest.mark.parametrize("language", list(RETURNS))
def test_a_return_step_by_step(bot: Bot, language: str) -> None:
    first, contact, items, reason, confirmation, reference = RETURNS[language]
    me = new_sender()
    asked = bot.say(me, first)
    assert "BL-" in texts(asked) or "@" in texts(asked) or asked, asked
    after_contact = bot.say(me, contact)
    number = re.search(r"BL-\d{5}", first).group(0)  # type: ignore[union-attr]
    assert number in texts(after_contact), after_contact  # the question names the order
    if items is not None:
        assert len(payloads(after_contact)) >= 3, after_contact  # every line, and "all"
        after_items = bot.say(me, items)
    else:
        after_items = after_contact
    assert "return_reason" in " ".join(payloads(after_items)), after_items  # the reason buttons
    done = texts(bot.say(me, reason))
    assert reference in done and confirmation in done, done
    assert bot.tracker(me)["slots"]["language"] == language
    if language != "en":
        assert not any(marker in done for marker in ENGLISH_MARKERS), done


REFUNDS = {
    "en": "Where is my refund? Order BL-10016, email jonas.becker@example.de",
    "de": "Wann bekomme ich mein Geld zurück? Bestellung BL-10016, E-Mail jonas.becker@example.de",
    "fr": "Où en est mon remboursement ? Commande BL-10016, e-mail jonas.becker@example.de",
    "es": "¿Dónde está mi reembolso? Pedido BL-10016, correo jonas.becker@example.de",
    "it": "Dov'è il mio rimborso? Ordine BL-10016, email jonas.becker@example.de",
    "pt": "Cadê meu reembolso? Pedido BL-10016, e-mail jonas.becker@example.de",
    "ja": "返金状況を教えてください。注文BL-10016、メールはjonas.becker@example.deです",
    "zh": "退款进度怎么样？订单BL-10016，邮箱jonas.becker@example.de",
    "ar": "متى ترجع فلوسي؟ الطلب BL-10016 والبريد jonas.becker@example.de",
}


@pytest.mark.parametrize("language", list(REFUNDS))
def test_refund_status_in_one_message(bot: Bot, language: str) -> None:
    answer = bot.text(new_sender(), REFUNDS[language])
    assert "R10016-1" in answer and "119" in answer, answer
    if language != "en":
        assert "original payment" not in answer, answer


# language: (cancel message, yes, words of the localized confirmation)
CANCELS = {
    "en": ("Please cancel my order BL-10032, my email is robert.hughes@example.com", "yes",
           "is cancelled"),
    "de": ("Ich möchte meine Bestellung BL-10033 stornieren, E-Mail katrin.vogel@example.de",
           "ja", "storniert"),
    "fr": ("Je voudrais annuler ma commande BL-10034, mon e-mail est julien.moreau@example.fr",
           "oui", "annulée"),
    "es": ("Quiero cancelar mi pedido BL-10035, mi correo es carmen.ruiz@example.es", "sí",
           "cancelado"),
    "it": ("Vorrei annullare l'ordine BL-10036, la mia email è alessandro.conti@example.it", "sì",
           "annullato"),
    # "Quero cancelar meu pedido ..." is too close to Spanish for the detector to switch.
    "pt": ("Cancelem o pedido BL-10037 por favor, meu e-mail é rafael.lima@example.com", "sim",
           "cancelado"),
    "ja": ("注文BL-10038をキャンセルしたいです。メールはaoi.suzuki@example.jpです", "はい",
           "キャンセル"),
    "zh": ("我要取消订单BL-10039，邮箱是chen.jing@example.cn", "是的", "已取消"),
    "ar": ("أريد إلغاء طلبي BL-10040 والبريد fatima.alzahrani@example.com", "نعم", "أُلغي"),
}  # fmt: skip


@pytest.mark.parametrize("language", list(CANCELS))
def test_cancel_is_confirmed_then_done(bot: Bot, language: str) -> None:
    message, yes, cancelled = CANCELS[language]
    number = re.search(r"BL-\d{5}", message).group(0)  # type: ignore[union-attr]
    me = new_sender()
    question = bot.say(me, message)
    assert number in texts(question) and payloads(question)[:2] == ["/affirm", "/deny"], question
    done = texts(bot.say(me, yes))
    assert number in done and cancelled in done, done
    assert bot.tracker(me)["slots"]["language"] == language
    # Asking again: the shop really cancelled it.
    again = bot.text(new_sender(), message)
    assert number in again and "/affirm" not in again


ADDRESSES = {
    "en": ("I need to change the delivery address of order BL-10041", "yes",
           "Noah Fischer, 221B Baker Street, London NW1 6XE, United Kingdom"),
    "de": ("Ich muss die Lieferadresse meiner Bestellung BL-10041 ändern", "ja",
           "Noah Fischer, Hauptstraße 5, 10115 Berlin, Deutschland"),
    "fr": ("Je veux changer l'adresse de livraison de la commande BL-10041", "oui",
           "Noah Fischer, 12 rue de la Paix, 75002 Paris, France"),
    "es": ("Quiero cambiar la dirección de entrega del pedido BL-10041", "sí",
           "Noah Fischer, Calle de Alcalá 45, 28014 Madrid, España"),
    "it": ("Voglio cambiare l'indirizzo di consegna dell'ordine BL-10041", "sì",
           "Noah Fischer, Via Roma 10, 00184 Roma, Italia"),
    "pt": ("Quero mudar o endereço de entrega do pedido BL-10041", "sim",
           "Noah Fischer, Rua Augusta 100, 01304-000 São Paulo, Brasil"),
    "ja": ("注文BL-10041の配送先住所を変更できますか？", "はい",
           "〒100-0005 東京都千代田区丸の内1-1-1 ノア・フィッシャー様"),
    "zh": ("我想改订单BL-10041的收货地址", "是的", "上海市浦东新区世纪大道100号 诺亚·菲舍尔 收"),
    "ar": ("أريد تغيير عنوان الشحن للطلب BL-10041", "نعم",
           "نوح فيشر، شارع الملك فهد 25، الرياض 12211، السعودية"),
}  # fmt: skip


@pytest.mark.parametrize("language", list(ADDRESSES))
def test_address_change_is_collected_confirmed_and_saved(bot: Bot, language: str) -> None:
    message, yes, address = ADDRESSES[language]
    me = new_sender()
    bot.say(me, message)
    asked_address = texts(bot.say(me, "noah.fischer@example.ch"))
    assert asked_address, "the bot asks for the new address"
    question = bot.say(me, address)
    assert address in texts(question) and "/affirm" in payloads(question), question
    done = texts(bot.say(me, yes))
    assert "BL-10041" in done and address in done, done
    assert bot.tracker(me)["slots"]["language"] == language


def test_an_order_checked_before_is_not_asked_again(bot: Bot) -> None:
    me = new_sender()
    status = bot.text(me, "where is my order BL-10029? email mariana.costa@example.com")
    assert "delivered" in status
    # Only the watch is left to return (the strap went back in Portuguese): straight to why.
    asked = bot.say(me, "how do i return an item")
    assert inform(return_reason="damaged") in payloads(asked), asked


def test_a_shipped_order_cannot_be_cancelled_and_nothing_happens_on_yes(bot: Bot) -> None:
    me = new_sender()
    answer = bot.say(me, "please cancel order BL-10001, email anna.schmidt@example.de")
    assert "already left our warehouse" in texts(answer)
    assert "/request_human" in payloads(answer)
    after = bot.text(new_sender(), "where is my order BL-10001 anna.schmidt@example.de")
    assert "on its way" in after


def test_a_return_too_late_is_explained_with_the_dates(bot: Bot) -> None:
    answer = bot.text(
        new_sender(), "I want to return order BL-10013, email anna.schmidt@example.de"
    )
    assert "14 days" in answer and "Germany" in answer, answer


def test_no_keeps_the_order(bot: Bot) -> None:
    me = new_sender()
    bot.say(me, "cancel order BL-10041 please, noah.fischer@example.ch")
    assert "left order BL-10041 as it is" in bot.text(me, "no")


def test_an_order_not_shipped_yet_is_offered_a_cancellation_instead(bot: Bot) -> None:
    me = new_sender()
    answer = bot.say(me, "I want to return order BL-10008, my email is marco.rossi@example.net")
    assert "hasn't shipped yet" in texts(answer) and "/cancel_order" in payloads(answer)
    # The button starts the cancellation of the same order without asking for it again.
    question = bot.say(me, "/cancel_order")
    assert "BL-10008" in texts(question) and "/affirm" in payloads(question), question
    assert "left order BL-10008 as it is" in bot.text(me, "no, keep it")


def test_are_you_a_bot_in_the_middle_of_a_return(bot: Bot) -> None:
    me = new_sender()
    bot.say(me, "I want to return my order BL-10020")
    assert "virtual assistant" in bot.text(me, "are you a bot?")
    assert "doesn't look like" not in bot.text(me, "javier.lopez@example.org")
