"""GazetteerEntityExtractor: country and product entities, built the way Rasa builds it."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema, SchemaNode
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.training.fingerprinting import calculate_fingerprint_key
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.i18n.countries import normalize
from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.nlu.gazetteer import GazetteerEntityExtractor, load_catalog
from borderless.settings import PROJECT_ROOT

NODE = "run_GazetteerEntityExtractor0"
NAME = "GazetteerEntityExtractor"
CATALOG = PROJECT_ROOT / "demo" / "catalog.yml"

TITLES = [
    "Wireless Earbuds Pro 2",
    "Noise-cancelling headphones",
    "Smartwatch S3",
    "Sport strap, black",
    "Mini projector 1080p",
    "Bluetooth speaker, waterproof",
    "Portable blender",
    "Mechanical keyboard 75%, brown switches",
    "PBT keycap set, sakura",
    "Mini camera drone",
    "Spare drone battery",
    "Cork yoga mat",
    "Cork yoga blocks, pair",
    "Trail running shoes, EU 42",
    "Silk scarf, indigo",
    "Cashmere gloves, M",
    "Leather weekender bag, cognac",
    "Ergonomic office chair",
    "Monitor arm, single",
    "Moon desk lamp",
    "Ceramic tea set, celadon",
    "Tieguanyin oolong, 100 g",
    "Vitamin C serum, 30 ml",
    "Hyaluronic moisturiser, 50 ml",
    "Oud perfume oil, 50 ml",
    "Bakhoor burner set",
    "Prayer mat, memory foam",
    "65 W GaN charger",
    "USB-C cable 2 m, braided",
    "Phone case, clear, MagSafe",
    "Tempered glass screen protector",
]
EARBUDS = "Wireless Earbuds Pro 2"
HEADPHONES = "Noise-cancelling headphones"


def _context(fn: str) -> ExecutionContext:
    node = SchemaNode(
        needs={}, uses=GazetteerEntityExtractor, constructor_name="load", fn=fn, config={}
    )
    return ExecutionContext(GraphSchema({NODE: node}), model_id="test", node_name=NODE)


def _create(
    path: Path, config: dict[str, Any] | None = None, fn: str = "process"
) -> GazetteerEntityExtractor:
    return GazetteerEntityExtractor.create(
        {**GazetteerEntityExtractor.get_default_config(), **(config or {})},
        LocalModelStorage(path),
        Resource("gazetteer"),
        _context(fn),
    )


@pytest.fixture(scope="module")
def extractor(tmp_path_factory: pytest.TempPathFactory) -> GazetteerEntityExtractor:
    return _create(tmp_path_factory.mktemp("model_storage"))


def run(extractor: GazetteerEntityExtractor, text: str, **data: Any) -> Message:
    message = Message(data={"text": text, **data})
    [processed] = extractor.process([message])
    return processed


def found(extractor: GazetteerEntityExtractor, text: str) -> list[tuple[str, str, str]]:
    """``(entity, value, text[start:end])`` of every entity the extractor added."""
    message = run(extractor, text)
    entities = message.get("entities") or []
    for entity in entities:
        assert set(entity) == {"entity", "start", "end", "value", "extractor"}, entity
        assert entity["extractor"] == NAME
        assert 0 <= entity["start"] < entity["end"] <= len(text)
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in entities]


# --- the component as Rasa sees it ----------------------------------------------------------


def test_registered_as_an_untrainable_entity_extractor() -> None:
    registered = DefaultV1Recipe._from_registry("borderless.nlu.gazetteer.GazetteerEntityExtractor")
    assert registered.clazz is GazetteerEntityExtractor
    assert DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR in registered.types
    assert not registered.is_trainable


def test_rasa_can_fingerprint_it_for_training() -> None:
    config = GazetteerEntityExtractor.get_default_config()
    assert calculate_fingerprint_key(GazetteerEntityExtractor, config, {})


def test_default_config() -> None:
    assert GazetteerEntityExtractor.get_default_config() == {
        "entities": ["country", "product"],
        "catalog": "demo/catalog.yml",
    }


def test_training_data_is_left_alone(extractor: GazetteerEntityExtractor) -> None:
    example = Message(data={"text": "ship my earbuds to Germany", "intent": "shipping_time"})
    training_data = TrainingData([example])
    assert extractor.process_training_data(training_data) is training_data
    assert example.get("entities") is None


def test_outside_the_inference_graph_tables_are_built_on_first_use(tmp_path: Path) -> None:
    component = _create(tmp_path, fn="process_training_data")
    assert found(component, "Deutschland") == [("country", "DE", "Deutschland")]


@pytest.mark.parametrize(
    "config",
    [
        {"entities": ["country", "city"]},
        {"entities": []},
        {"catalog": "demo/no_such_catalog.yml"},
    ],
)
def test_invalid_config_is_rejected(tmp_path: Path, config: dict[str, Any]) -> None:
    with pytest.raises(InvalidConfigException):
        _create(tmp_path, config)


def test_only_the_configured_entities(tmp_path: Path) -> None:
    text = "Do you ship earbuds to Japan?"
    countries_only = _create(tmp_path, {"entities": ["country"], "catalog": "nowhere.yml"})
    assert found(countries_only, text) == [("country", "JP", "Japan")]
    products_only = _create(tmp_path, {"entities": "product"})
    assert found(products_only, text) == [("product", EARBUDS, "earbuds")]


def test_catalog_path_from_config(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yml"
    catalog.write_text(
        yaml.safe_dump(
            {"products": [{"title": "Teapot", "aliases": {"de": ["Teekanne"], "ja": ["急須"]}}]}
        ),
        encoding="utf-8",
    )
    component = _create(tmp_path, {"catalog": str(catalog)})
    assert found(component, "Die Teekanne nach Österreich, 急須") == [
        ("product", "Teapot", "Teekanne"),
        ("country", "AT", "Österreich"),
        ("product", "Teapot", "急須"),
    ]


# --- countries --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How long does shipping to Germany take?", [("country", "DE", "Germany")]),
        ("Wie lange dauert der Versand nach Österreich?", [("country", "AT", "Österreich")]),
        ("Livrez-vous en Suisse ?", [("country", "CH", "Suisse")]),
        ("¿Enviáis a EE.UU.?", [("country", "US", "EE.UU.")]),
        ("Spedite in Italia?", [("country", "IT", "Italia")]),
        ("Vocês entregam no Brasil?", [("country", "BR", "Brasil")]),
        ("アメリカまで何日かかりますか", [("country", "US", "アメリカ")]),
        ("寄到美国要多久", [("country", "US", "美国")]),
        ("كم يستغرق الشحن الى السعودية", [("country", "SA", "السعودية")]),
        ("هل تشحنون للإمارات؟", [("country", "AE", "للإمارات")]),
        ("ship to the USA or the UK", [("country", "US", "USA"), ("country", "GB", "the UK")]),
        ("ship to us please", []),
    ],
)
def test_countries(
    extractor: GazetteerEntityExtractor, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert found(extractor, text) == expected


# --- products ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My earbuds don't charge", [("product", EARBUDS, "earbuds")]),
        ("Meine Kopfhörer sind kaputt", [("product", EARBUDS, "Kopfhörer")]),
        ("Mes écouteurs ne marchent pas", [("product", EARBUDS, "écouteurs")]),
        ("mis auriculares no funcionan", [("product", EARBUDS, "auriculares")]),
        ("i miei auricolari", [("product", EARBUDS, "auricolari")]),
        ("meus fones de ouvido", [("product", EARBUDS, "fones de ouvido")]),
        ("イヤホンが壊れました", [("product", EARBUDS, "イヤホン")]),
        ("我的耳机坏了", [("product", EARBUDS, "耳机")]),
        ("السماعات لا تعمل", [("product", EARBUDS, "السماعات")]),
        ("Over-Ear-Kopfhörer", [("product", HEADPHONES, "Over-Ear-Kopfhörer")]),
        ("mi casco no funciona, los cascos", [("product", HEADPHONES, "cascos")]),
        ("降噪耳机", [("product", HEADPHONES, "降噪耳机")]),
        ("I want the Wireless Earbuds Pro 2", [("product", EARBUDS, "Wireless Earbuds Pro 2")]),
        ("wireless earbuds pro 2", [("product", EARBUDS, "wireless earbuds pro 2")]),
        ("a sport strap", [("product", "Sport strap, black", "sport strap")]),
        ("手表表带", [("product", "Sport strap, black", "手表表带")]),
        (
            "Is the vitamin c serum final sale?",
            [("product", "Vitamin C serum, 30 ml", "vitamin c serum")],
        ),
        ("usb c cable", [("product", "USB-C cable 2 m, braided", "usb c cable")]),
        ("65W GaN charger", [("product", "65 W GaN charger", "65W GaN charger")]),
        ("Handyhülle", [("product", "Phone case, clear, MagSafe", "Handyhülle")]),
        ("مبخرة", [("product", "Bakhoor burner set", "مبخرة")]),
        ("سجادة صلاة", [("product", "Prayer mat, memory foam", "سجادة صلاة")]),
        ("my drone battery died", [("product", "Spare drone battery", "drone battery")]),
        ("ドローンバッテリー", [("product", "Spare drone battery", "ドローンバッテリー")]),
        ("in case it breaks", []),
        ("does the warranty cover it?", []),
        ("quiero ver una película", []),
    ],
)
def test_products(
    extractor: GazetteerEntityExtractor, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert found(extractor, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "How long do earbuds take to Germany?",
            [("product", EARBUDS, "earbuds"), ("country", "DE", "Germany")],
        ),
        (
            "Kopfhörer nach Österreich",
            [("product", EARBUDS, "Kopfhörer"), ("country", "AT", "Österreich")],
        ),
        (
            "ドローンバッテリーをドイツに送れますか",
            [("product", "Spare drone battery", "ドローンバッテリー"), ("country", "DE", "ドイツ")],
        ),
        (
            "降噪耳机寄到美国要多久",
            [("product", HEADPHONES, "降噪耳机"), ("country", "US", "美国")],
        ),
        (
            "سجادة صلاة للسعودية",
            [("product", "Prayer mat, memory foam", "سجادة صلاة"), ("country", "SA", "للسعودية")],
        ),
        (
            "cabo usb-c para o Brasil",
            [("product", "USB-C cable 2 m, braided", "cabo usb-c"), ("country", "BR", "Brasil")],
        ),
        # "Cabo" is also a cable in Portuguese: the longer country wins.
        ("Vocês enviam para Cabo Verde?", [("country", "CV", "Cabo Verde")]),
    ],
)
def test_countries_and_products_together(
    extractor: GazetteerEntityExtractor, text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert found(extractor, text) == expected


# --- the catalog ------------------------------------------------------------------------------


def test_catalog_has_exactly_the_demo_products() -> None:
    products = load_catalog(CATALOG)
    assert [product["title"] for product in products] == TITLES
    skus = [product["sku"] for product in products]
    assert len(set(skus)) == len(skus)
    for product in products:
        assert isinstance(product["price"], int | float) and product["price"] > 0, product
        assert isinstance(product["stock"], int) and product["stock"] >= 0, product
        assert product["category"], product
        assert set(product["aliases"]) == set(SUPPORTED_LANGUAGES), product["title"]
    final_sale = {product["title"] for product in products if product.get("final_sale")}
    assert {"Oud perfume oil, 50 ml", "Vitamin C serum, 30 ml"} <= final_sale
    assert yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["currency"] == "USD"


def test_no_alias_names_two_products() -> None:
    owners: dict[str, set[str]] = {}
    for product in load_catalog(CATALOG):
        for names in product["aliases"].values():
            for name in names:
                owners.setdefault(" ".join(normalize(name).split()), set()).add(product["title"])
    shared = {name: titles for name, titles in owners.items() if len(titles) > 1}
    assert not shared


def test_every_alias_finds_its_product(extractor: GazetteerEntityExtractor) -> None:
    failures = []
    for product in load_catalog(CATALOG):
        for language, names in product["aliases"].items():
            for name in names:
                if found(extractor, name) != [("product", product["title"], name)]:
                    failures.append((language, name, found(extractor, name)))
    assert not failures


# --- living with other extractors -------------------------------------------------------------


def test_no_duplicate_of_another_extractors_entity(extractor: GazetteerEntityExtractor) -> None:
    text = "ship earbuds to Germany"
    diet = {"entity": "country", "value": "Germany", "start": 16, "end": 23, "extractor": "DIET"}
    message = run(extractor, text, entities=[diet])
    assert message.get("entities") == [
        diet,
        {"entity": "product", "start": 5, "end": 12, "value": EARBUDS, "extractor": NAME},
    ]


def test_a_different_entity_at_the_same_span_is_not_a_duplicate(
    extractor: GazetteerEntityExtractor,
) -> None:
    other = {"entity": "city", "value": "Germany", "start": 8, "end": 15, "extractor": "X"}
    message = run(extractor, "ship to Germany", entities=[other])
    assert [e["entity"] for e in message.get("entities")] == ["city", "country"]


def test_processing_twice_adds_nothing_twice(extractor: GazetteerEntityExtractor) -> None:
    order = {"entity": "order_number", "value": "BL-10001", "start": 6, "end": 14}
    message = Message(data={"text": "Order BL-10001: earbuds to Japan", "entities": [order]})
    extractor.process([message])
    first = [dict(entity) for entity in message.get("entities")]
    extractor.process([message])
    assert message.get("entities") == first
    assert [e["entity"] for e in first] == ["order_number", "product", "country"]
    assert first[0] == order


def test_nothing_found_leaves_entities_alone(extractor: GazetteerEntityExtractor) -> None:
    assert run(extractor, "hello there").get("entities") is None
    existing: list[dict[str, Any]] = []
    assert run(extractor, "hello there", entities=existing).get("entities") is existing


def test_parse_output_survives_json(extractor: GazetteerEntityExtractor) -> None:
    message = run(extractor, "寄到美国要多久, earbuds")
    output = message.as_dict(only_output_properties=True)
    assert json.loads(json.dumps(output, ensure_ascii=False))["entities"] == output["entities"]
    assert [e["value"] for e in output["entities"]] == ["US", EARBUDS]


# --- robustness -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "👍",
        "🇩🇪🇺🇸",
        "😀" * 300,
        "\u200b\u200d",
        "/shipping_time",
        '/shipping{"country":"DE"}',
    ],
)
def test_odd_messages_do_not_crash(extractor: GazetteerEntityExtractor, text: str) -> None:
    assert found(extractor, text) == []


def test_messages_without_text_are_skipped(extractor: GazetteerEntityExtractor) -> None:
    message = Message(data={"intent": {"name": "greet"}})
    extractor.process([message])
    assert message.get("entities") is None


def test_5000_characters(extractor: GazetteerEntityExtractor) -> None:
    text = ("My earbuds to Germany please, and the 美国 order. 🙂 " * 100)[:5000]
    assert len(text) == 5000
    started = time.perf_counter()
    entities = found(extractor, text)
    elapsed = time.perf_counter() - started
    print(f"\nGazetteerEntityExtractor: 5,000 characters in {elapsed * 1000:.1f} ms")
    assert elapsed < 1.0
    assert len(entities) >= 250
    assert {value for _, value, _ in entities} == {EARBUDS, "DE", "US"}


def test_latency_on_a_typical_message(extractor: GazetteerEntityExtractor) -> None:
    text = (
        "Hi! I bought the noise cancelling headphones and a phone case last week. How long "
        "does shipping to Deutschland take, and can you send the earbuds to my sister in 日本?"
    )
    extractor.extract(text)
    runs = 200
    started = time.perf_counter()
    for _ in range(runs):
        extractor.extract(text)
    per_call = (time.perf_counter() - started) / runs
    print(f"\nGazetteerEntityExtractor: {len(text)} characters in {per_call * 1000:.3f} ms")
    assert per_call < 0.01


@pytest.mark.parametrize(
    ("text", "span"),
    [
        # A descriptor the product's own names use in some language joins the mention.
        ("le tapis de yoga en liège est antidérapant ?", "tapis de yoga en liège"),
        ("la sedia da ufficio ergonomica ha il poggiatesta?", "sedia da ufficio ergonomica"),
        ("quanto custa o frete do mini projetor 1080p?", "mini projetor 1080p"),
        ("as sapatilhas de trail running ficam apertadas", "sapatilhas de trail running"),
        ("el aceite de perfume oud lleva alcohol?", "aceite de perfume oud"),
        ("wie riecht das Oud Parfümöl", "Oud Parfümöl"),
        ("la borsa weekender in pelle entra in cabina?", "borsa weekender in pelle"),
        ("kann man den Smoothie-Mixer per usb laden", "Smoothie-Mixer"),
        # Anything else stays out.
        ("los cascos de mi hermano", "cascos"),
        ("the yoga mat on sale", "yoga mat"),
        ("my earbuds are broken", "earbuds"),
    ],
)
def test_product_mentions_take_their_descriptors(
    extractor: GazetteerEntityExtractor, text: str, span: str
) -> None:
    spans = [
        text[e["start"] : e["end"]]
        for e in run(extractor, text).get("entities") or []
        if e["entity"] == "product"
    ]
    assert spans == [span]
