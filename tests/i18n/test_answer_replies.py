"""Which responses answer product, payment, duties and warranty questions, per market."""

from __future__ import annotations

import asyncio

import pytest

from borderless.commerce.catalog import YamlCatalog
from borderless.commerce.policies import Policies
from borderless.i18n.answer_replies import (
    duties_replies,
    market_warranty_replies,
    payment_replies,
    product_replies,
)
from borderless.i18n.topics import Topics
from borderless.settings import PROJECT_ROOT

CATALOG = YamlCatalog.load(PROJECT_ROOT / "demo" / "catalog.yml")
POLICIES = Policies.load(PROJECT_ROOT / "demo" / "policies.yml")
TOPICS = Topics.load()


def product(title: str):  # type: ignore[no-untyped-def]
    found = asyncio.run(CATALOG.find(title))
    assert found is not None
    return found


def names(replies: list) -> list[str]:  # type: ignore[type-arg]
    return [r.response for r in replies]


def test_price_in_the_market_currency_formatted_for_the_locale() -> None:
    replies = product_replies(product("Smartwatch S3"), ["price"], "de", "DE", POLICIES)
    assert names(replies) == ["utter_product_price"]
    assert replies[0].args["price"] == "188,99\xa0€"
    assert replies[0].args["country"] == "Deutschland"
    ja = product_replies(product("Smartwatch S3"), ["price"], "ja", None, POLICIES)
    assert ja[0].args["price"] == "￥30,800" and ja[0].args["country"] == "日本"


def test_stock_per_variant() -> None:
    replies = product_replies(
        product("Trail running shoes, EU 42"), ["stock"], "en", "US", POLICIES
    )
    assert names(replies) == ["utter_product_variants", "utter_product_variants_sold_out"]
    assert "EU 40" in replies[0].args["available"] and "EU 39" in replies[1].args["sold_out"]


def test_no_aspect_gives_an_overview_and_unknown_facts_are_said() -> None:
    overview = names(product_replies(product("Silk scarf, indigo"), [], "fr", "FR", POLICIES))
    assert overview == [
        "utter_product_price",
        "utter_product_in_stock",
        "utter_product_size",
        "utter_product_material",
    ]
    care = product_replies(product("65 W GaN charger"), ["care"], "en", None, POLICIES)
    assert names(care) == ["utter_product_no_info"]


def test_final_sale_is_mentioned() -> None:
    replies = product_replies(product("Vitamin C serum, 30 ml"), [], "en", None, POLICIES)
    assert "utter_product_final_sale" in names(replies)


@pytest.mark.parametrize(
    ("country", "response"),
    [
        ("AT", "utter_duties_included"),
        ("US", "utter_duties_ddp"),
        ("JP", "utter_duties_threshold"),
        ("CH", "utter_duties_on_delivery"),
        ("CN", "utter_duties_domestic"),
    ],
)
def test_duties_per_market(country: str, response: str) -> None:
    assert names(duties_replies(POLICIES, country, "en")) == [response]


def test_the_japanese_threshold_is_in_yen() -> None:
    assert duties_replies(POLICIES, "JP", "ja")[0].args["threshold"] == "￥10,000"


def test_warranty_legal_in_the_eu_shop_elsewhere() -> None:
    assert names(market_warranty_replies(POLICIES, "IT", "it"))[0] == "utter_warranty_legal"
    assert names(market_warranty_replies(POLICIES, "US", "en"))[0] == "utter_warranty_shop"


def test_payment_answers() -> None:
    double = payment_replies(POLICIES, "double_charge", "en", None)
    assert names(double) == ["utter_payment_double_charge", "utter_offer_human_payment"]
    assert double[0].args == {"days_min": 3, "days_max": 5}
    methods = payment_replies(POLICIES, "methods", "ja", "JP")
    assert "コンビニ払い" in methods[0].args["methods"]
    assert names(payment_replies(POLICIES, "declined", "de", None)) == [
        "utter_payment_declined",
        "utter_payment_methods",
    ]
    assert names(payment_replies(POLICIES, None, "ar", "SA"))[-1] == "utter_payment_more"


@pytest.mark.parametrize(
    ("group", "text", "topic"),
    [
        ("payment", "I was charged twice for my order", "double_charge"),
        ("payment", "Meine Karte wurde abgelehnt", "declined"),
        ("payment", "我被扣了两次钱", "double_charge"),
        ("payment", "le paiement est toujours en attente", "pending"),
        ("payment", "تم رفض بطاقتي", "declined"),
        ("payment", "aceitam pix?", "methods"),
        ("product", "スマートウォッチの在庫はありますか", "stock"),
        ("product", "di che materiale è la borsa?", "material"),
        ("product", "¿qué garantía tiene el dron?", "warranty"),
        ("shipping", "do I have to pay customs to Germany", "duties"),
        ("shipping", "関税はかかりますか", "duties"),
    ],
)
def test_topics_in_every_script(group: str, text: str, topic: str) -> None:
    assert TOPICS.first(group, text) == topic


def test_no_topic_words_no_topic() -> None:
    assert TOPICS.all_of("product", "tell me about the drone") == []
