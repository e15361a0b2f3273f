"""MultilingualTokenizer, built the way Rasa builds it, on what customers write in nine languages.

The important property is alignment: every token is an exact slice of the message, and entity
spans (annotations in the training data, and what RegexEntityExtractor finds with the project's
``data/nlu/regex.yml``) start and end on token boundaries, checked with Rasa's own
``check_correct_entity_annotations`` (the "Misaligned entity annotation" warning).
"""

from __future__ import annotations

import statistics
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.extractors.regex_entity_extractor import RegexEntityExtractor
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.nlu import tokenizer as tokenizer_module
from borderless.nlu.tokenizer import MultilingualTokenizer

REPO_ROOT = Path(__file__).resolve().parents[2]

slow = pytest.mark.slow  # deselect with `-m "not slow"`

SENTENCES: dict[str, list[str]] = {
    "en": [
        "Where is my order BL-10001? My email is anna@example.de, call +49 151 2345678 :)",
        "How long does shipping to the United States take?",
        "I'd like to return 2 pairs of shoes (size 42).",
    ],
    "de": ["Wo ist meine Bestellung BL-10001? Schreibt mir an jürgen.müller@example.de!"],
    "fr": ["Où est ma commande BL-10001 ? J'ai payé 49,90 € l'été dernier."],
    "es": ["¿Dónde está mi pedido BL-10001? ¡Gracias!"],
    "it": ["Quando arriverà l'ordine BL-10001? Grazie mille."],
    "pt": ["Olá, meu pedido BL-10001 ainda não chegou. Você pode verificar?"],
    "ja": [
        "注文番号はBL-10001です",
        "アメリカまで何日かかりますか？",
        "「ドイツ」へ送れますか。メールはanna@example.deです。",
        "ＢＬ－１０００１の配送状況を教えて",
        "ｱﾒﾘｶにﾊﾞｯｸを送りたい",
        "電話は+49 151 2345678です",
        "荷物がまだ届いていません😢",
    ],
    "zh": [
        "我的订单BL-10001在哪里",
        "寄到美国要多久？",
        "订单号：BL-10002，邮箱anna@example.de，谢谢！",
        "可以寄到沙烏地阿拉伯嗎？",
        "追跡番号：9400111899223344556677",
    ],
    "ar": [
        "أين طلبي رقم BL-10001؟ بريدي الإلكتروني anna@example.de",
        "مرحبا، متى يصل الطلب إلى الإمارات العربية المتحدة؟",
    ],
}
ALL_SENTENCES = [sentence for sentences in SENTENCES.values() for sentence in sentences]

ANNOTATED_NLU = """
version: "3.1"
nlu:
- intent: shipping_time
  examples: |
    - 寄到[美国](country)要多久
    - 能寄到[德国](country)吗？
    - 寄到[北马其顿](country)要多久
    - 寄到[阿拉伯联合酋长国](country)要多少钱
    - 可以寄到[紐西蘭](country)嗎
    - [瑜伽垫](product)多厚
    - el envío a [EE.UU.](country) es gratis?
    - [アメリカ](country)まで何日かかりますか
    - [ドイツ](country)への送料はいくらですか
    - [日本](country)から[フランス](country)へ送れますか
    - [アメリカ](country)合衆国に送れますか
- intent: order_status
  examples: |
    - 我的订单[BL-10001](order_number)在哪里
    - 订单号：[BL-10002](order_number)，邮箱[anna@example.de](email)
    - 注文番号は[BL-10001](order_number)です
    - [ＢＬ－１０００１](order_number)の配送状況を教えて
    - 「[BL-10003](order_number)」はいつ届きますか？
    - where is order #[BL-12001](order_number)?
    - 注文は＃[BL-13371](order_number)です
    - أين طلبي [BL-10001](order_number)؟ بريدي [anna@example.de](email)
"""


def make_tokenizer(**config: Any) -> MultilingualTokenizer:
    """The component as Rasa creates it, defaults merged with the given config."""
    component = MultilingualTokenizer.create(
        {**MultilingualTokenizer.get_default_config(), **config},
        LocalModelStorage(Path("/nonexistent-unused")),
        Resource("tokenizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    assert isinstance(component, MultilingualTokenizer)
    return component


@pytest.fixture(scope="module")
def tokenizer() -> MultilingualTokenizer:
    return make_tokenizer()


def tokens_of(tokenizer: Any, text: str) -> list[Token]:
    return tokenizer.tokenize(Message(data={TEXT: text}), TEXT)


def texts(tokenizer: Any, text: str) -> list[str]:
    return [token.text for token in tokens_of(tokenizer, text)]


def misalignment_warnings(training_data: TrainingData) -> list[str]:
    """What Rasa's own check (run by DIET and CRF before training) warns about."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EntityExtractorMixin.check_correct_entity_annotations(training_data)
    return [str(w.message) for w in caught if "Misaligned entity annotation" in str(w.message)]


# --- offsets ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ALL_SENTENCES)
def test_every_token_is_the_exact_slice_of_the_text(tokenizer, text):
    tokens = tokens_of(tokenizer, text)
    assert tokens
    previous_end = 0
    for token in tokens:
        assert token.text, token
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end, "tokens overlap or are out of order"
        previous_end = token.end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("我的订单BL-10001在哪里", ["我", "的", "订单", "BL-10001", "在", "哪里"]),
        ("注文番号はBL-10001です", ["注文", "番号", "は", "BL-10001", "です"]),
        (
            "أين طلبي رقم BL-10001؟ بريدي الإلكتروني anna@example.de",
            ["أين", "طلبي", "رقم", "BL-10001", "بريدي", "الإلكتروني", "anna@example.de"],
        ),
        ("寄到美国要多久？", ["寄", "到", "美国", "要", "多久"]),
        ("アメリカまで何日かかりますか？", ["アメリカ", "まで", "何日", "かかり", "ます", "か"]),
        ("「ドイツ」へ送れますか。", ["ドイツ", "へ", "送れ", "ます", "か"]),
        ("日本から中国へ", ["日本", "から", "中国", "へ"]),
        (
            "订单号：BL-10002，邮箱anna@example.de",
            ["订单号", "BL-10002", "邮箱", "anna@example.de"],
        ),
        ("运单号：9400111899223344556677", ["运单", "号", "9400111899223344556677"]),
        (
            "追跡番号：9400111899223344556677です",
            ["追跡", "番号", "9400111899223344556677", "です"],
        ),
        # Han only, no Kana: read as Chinese, still aligned (jieba does not know 追跡).
        ("追跡番号：9400111899223344556677", ["追", "跡", "番号", "9400111899223344556677"]),
        ("電話は+49 151 2345678です", ["電話", "は", "+49", "151", "2345678", "です"]),
        ("ＢＬ－１０００１の配送状況", ["ＢＬ－１０００１", "の", "配送", "状況"]),
    ],
)
def test_scripts_are_split_where_they_meet(tokenizer, text, expected):
    assert texts(tokenizer, text) == expected


def test_full_width_ascii_is_one_token_with_the_ascii_lemma(tokenizer):
    (order, *_rest) = tokens_of(tokenizer, "ＢＬ－１０００１の配送状況を教えて")
    assert (order.text, order.start, order.end, order.lemma) == (
        "ＢＬ－１０００１",
        0,
        8,
        "BL-10001",
    )


def test_japanese_lemma_is_the_dictionary_form(tokenizer):
    lemmas = {t.text: t.lemma for t in tokens_of(tokenizer, "ｱﾒﾘｶに届いていません")}
    assert lemmas["ｱﾒﾘｶ"] == "アメリカ"
    assert lemmas["届い"] == "届く"


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order BL-10001? My email is anna@example.de, call +49 151 2345678 :)",
        "I'd like to return 2 pairs of shoes (size 42), it's 10'000.00 CHF!",
        "Wo ist meine Bestellung? Schreibt mir an jürgen.müller@example.de!",
        "¿Dónde está mi pedido BL-10001? https://shop.example/orders?id=1 ¡Gracias!",
        "أين طلبي رقم BL-10001؟ بريدي الإلكتروني anna@example.de",
        "   ",
        "Hi 👍 thanks!! ❤️",
    ],
)
def test_latin_and_arabic_are_tokenized_like_whitespace_tokenizer(tokenizer, text):
    whitespace = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    assert texts(tokenizer, text) == texts(whitespace, text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is order #BL-12001?", ["where", "is", "order", "BL-12001"]),
        ("注文は＃BL-13371です", ["注文", "は", "BL-13371", "です"]),
        ("#1 #sale C# # ##", ["1", "sale", "C#", "#", "##"]),
        ("el envío a EE.UU. es gratis?", ["el", "envío", "a", "EE.UU.", "es", "gratis"]),
        ("en cuántos días llega a EE.UU.?", ["en", "cuántos", "días", "llega", "a", "EE.UU."]),
        ("z.B. nach Wien.", ["z.B.", "nach", "Wien"]),
        ("mail anna@example.de.", ["mail", "anna@example.de"]),
    ],
)
def test_departures_from_whitespace_tokenizer_for_entity_alignment(tokenizer, text, expected):
    assert texts(tokenizer, text) == expected


def test_jieba_hmm_is_off_so_unknown_names_split_into_characters():
    assert texts(make_tokenizer(), "瑜伽垫多厚") == ["瑜伽", "垫", "多", "厚"]
    assert texts(make_tokenizer(jieba_hmm=True), "瑜伽垫多厚") == ["瑜伽", "垫多厚"]


# --- entity alignment ------------------------------------------------------------------------


def test_annotated_cjk_entities_align_with_tokens(tokenizer):
    training_data = RasaYAMLReader().reads(ANNOTATED_NLU)
    assert len(training_data.entity_examples) == 19
    tokenizer.process_training_data(training_data)
    assert misalignment_warnings(training_data) == []


def test_the_alignment_check_catches_whitespace_tokenization(tokenizer):
    """Control: the same data tokenized by WhitespaceTokenizer is flagged, so the check bites."""
    training_data = RasaYAMLReader().reads(ANNOTATED_NLU)
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(
        training_data
    )
    assert len(misalignment_warnings(training_data)) >= 10


def test_split_mode_b_aligns_where_c_does_not():
    """Why mode B: Sudachi's C keeps アメリカ合衆国 whole, so [アメリカ](country) cannot align."""
    example = (
        'version: "3.1"\nnlu:\n- intent: a\n  examples: |\n'
        "    - [アメリカ](country)合衆国に送れますか\n"
    )
    for mode, expected in (("B", 0), ("C", 1), ("A", 0)):
        training_data = RasaYAMLReader().reads(example)
        make_tokenizer(japanese_split_mode=mode).process_training_data(training_data)
        assert len(misalignment_warnings(training_data)) == expected, mode


def test_babel_territory_names_keep_countries_whole():
    with_names = make_tokenizer()
    without_names = make_tokenizer(add_territory_names=False)
    text = "寄到北马其顿要多久"
    assert "北马其顿" in texts(with_names, text)
    assert "北马其顿" not in texts(without_names, text)


def test_regex_entities_of_the_project_align_with_tokens(tokenizer, tmp_path):
    """RegexEntityExtractor with data/nlu/regex.yml, on CJK and Arabic messages."""
    patterns = RasaYAMLReader().read(REPO_ROOT / "data" / "nlu" / "regex.yml")
    # The extractor only uses patterns named like an entity of the training data.
    patterns = patterns.merge(
        RasaYAMLReader().reads(
            'version: "3.1"\nnlu:\n- intent: inform\n  examples: |\n'
            "    - [BL-10001](order_number) [a@b.de](email) [+49 151 2345678](phone)"
            " [9400111899223344556677](tracking_number)\n"
        )
    )
    extractor = RegexEntityExtractor.create(
        {
            **RegexEntityExtractor.get_default_config(),
            "case_sensitive": False,
            "use_lookup_tables": False,
            "use_regexes": True,
        },
        LocalModelStorage(tmp_path),
        Resource("regex"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    extractor.train(patterns)
    messages = [
        Message(data={TEXT: text, INTENT: "any"})
        for text in [
            "我的订单BL-10001在哪里",
            "注文番号はBL-10001です",
            "订单号：BL-10002，邮箱anna@example.de，谢谢！",
            "メールはanna@example.deです。注文はbl 10003です",
            "追跡番号：9400111899223344556677",
            "أين طلبي رقم BL-10001؟ بريدي الإلكتروني anna@example.de",
            "Wo ist BL-10001? Ruf an: +49 151 2345678",
        ]
    ]
    tokenizer.process(messages)
    extractor.process(messages)
    found = {(entity["entity"], entity["value"]) for m in messages for entity in m.get(ENTITIES)}
    assert {
        ("order_number", "BL-10001"),
        ("order_number", "bl 10003"),
        ("email", "anna@example.de"),
        ("tracking_number", "9400111899223344556677"),
        ("phone", "+49 151 2345678"),
    } <= found
    assert misalignment_warnings(TrainingData(messages)) == []


# --- robustness, intents, training = inference -----------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "😀", "😀😀🇩🇪👨‍👩‍👧", "？？", "。", ":)", "ー", "﹏"])
def test_texts_without_words_are_one_token_and_do_not_crash(tokenizer, text):
    tokens = tokens_of(tokenizer, text)
    assert [(t.text, t.start, t.end) for t in tokens] == [(text, 0, len(text))]
    # The pipeline entry points too.
    tokenizer.process([Message(data={TEXT: text})])
    tokenizer.process_training_data(TrainingData([Message(data={TEXT: text, INTENT: "a"})]))


def test_emoji_between_words_are_dropped(tokenizer):
    assert texts(tokenizer, "荷物がまだ届いていません😢 thanks 👍") == [
        "荷物",
        "が",
        "まだ",
        "届い",
        "て",
        "い",
        "ませ",
        "ん",
        "thanks",
    ]


def test_japanese_longer_than_sudachis_input_limit(tokenizer):
    text = "にもつがまだとどいていません" * 2000  # 28,000 kana, 84 kB: over Sudachi's 49 kB
    tokens = tokens_of(tokenizer, text)
    assert "".join(t.text for t in tokens) == text
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_training_and_inference_tokenize_alike(tokenizer):
    training_data = TrainingData(
        [Message(data={TEXT: text, INTENT: "order_status"}) for text in ALL_SENTENCES]
    )
    tokenizer.process_training_data(training_data)
    parsed = tokenizer.process([Message(data={TEXT: text}) for text in ALL_SENTENCES])
    for trained, live in zip(training_data.training_examples, parsed, strict=False):
        assert [t.fingerprint() for t in trained.get(TOKENS_NAMES[TEXT])] == [
            t.fingerprint() for t in live.get(TOKENS_NAMES[TEXT])
        ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, ["ask_shipping+greet"]),
        (
            {"intent_tokenization_flag": True, "intent_split_symbol": "+"},
            ["ask_shipping", "greet"],
        ),
    ],
)
def test_intents_are_split_like_the_base_tokenizer(config, expected):
    message = Message(data={TEXT: "hi, 寄到美国要多久", INTENT: "ask_shipping+greet"})
    make_tokenizer(**config).process_training_data(TrainingData([message]))
    assert [t.text for t in message.get(TOKENS_NAMES[INTENT])] == expected


def test_token_pattern_is_applied_to_every_script():
    tokenizer = make_tokenizer(token_pattern=r"[^-]+")
    assert texts(tokenizer, "订单BL-10001") == ["订单", "BL", "10001"]


def test_registered_with_the_default_recipe_and_config_checked():
    registered = DefaultV1Recipe._from_registry("MultilingualTokenizer")
    assert registered.clazz is MultilingualTokenizer
    assert DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER in registered.types
    assert registered.is_trainable is False
    with pytest.raises(InvalidConfigException):
        make_tokenizer(japanese_split_mode="D")


def test_threads_share_the_dictionaries_safely(tokenizer):
    text = "アメリカまで何日かかりますか？我的订单BL-10001在哪里"
    expected = texts(tokenizer, text)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(50):
                results.append(texts(tokenizer, text))
        except BaseException as error:  # a shared Sudachi tokenizer raises SudachiError
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 400
    assert all(result == expected for result in results)


# --- speed -----------------------------------------------------------------------------------

LONG_TEXTS = {
    "ja": "荷物がまだ届いていません。注文番号はBL-10001です。アメリカまで何日かかりますか？",
    "zh": "我的订单BL-10001在哪里？寄到美国要多久？邮箱anna@example.de，谢谢！",
    "en": "Where is my order BL-10001? My email is anna@example.de, thanks a lot! ",
    "ar": "أين طلبي رقم BL-10001؟ بريدي الإلكتروني anna@example.de شكرا ",
}


@pytest.mark.parametrize("language", sorted(LONG_TEXTS))
def test_a_5000_character_message_takes_less_than_200_ms(tokenizer, language):
    text = (LONG_TEXTS[language] * 200)[:5000]
    tokens_of(tokenizer, text)  # load the dictionaries outside the measurement
    durations = []
    for _ in range(3):
        started = time.perf_counter()
        tokens = tokens_of(tokenizer, text)
        durations.append(time.perf_counter() - started)
    assert len(tokens) > 500
    assert min(durations) < 0.2, durations


# --- train and parse -------------------------------------------------------------------------

SMOKE_CONFIG = """
recipe: default.v1
language: en
assistant_id: tokenizer_smoke
pipeline:
  - name: borderless.nlu.tokenizer.MultilingualTokenizer
  - name: CountVectorsFeaturizer
  - name: DIETClassifier
    epochs: 5
    random_seed: 42
    run_eagerly: true
    constrain_similarities: true
    evaluate_every_number_of_epochs: 5
policies: []
"""

SMOKE_NLU = """
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi there
    - こんにちは
    - おはようございます
    - 你好
    - 早上好
- intent: order_status
  examples: |
    - where is my order [BL-10001](order_number)
    - 注文番号は[BL-10001](order_number)です
    - 荷物がまだ届いていません
    - 我的订单[BL-10002](order_number)在哪里
    - 我的包裹还没到
- intent: shipping_time
  examples: |
    - how long does shipping to [Germany](country) take
    - [アメリカ](country)まで何日かかりますか
    - [ドイツ](country)への配送は何日ですか
    - 寄到[美国](country)要多久
    - 寄到[德国](country)要几天
"""


@slow
async def test_train_and_parse_with_the_tokenizer(tmp_path, monkeypatch):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    config = tmp_path / "config.yml"
    config.write_text(SMOKE_CONFIG, encoding="utf-8")
    nlu = tmp_path / "nlu.yml"
    nlu.write_text(SMOKE_NLU, encoding="utf-8")

    started = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = train_nlu(str(config), str(nlu), str(tmp_path / "models"))
    assert model is not None
    assert not [w for w in caught if "Misaligned entity annotation" in str(w.message)]

    agent = Agent.load(model)
    results = [
        await agent.parse_message(text)
        for text in ["寄到美国要多久", "注文番号はBL-10001です", "hello"]
    ]
    for text, result in zip(
        ["寄到美国要多久", "注文番号はBL-10001です", "hello"], results, strict=False
    ):
        assert result["text"] == text
        assert result["intent"]["name"] in {"greet", "order_status", "shipping_time"}
        assert 0.0 <= result["intent"]["confidence"] <= 1.0
    assert time.perf_counter() - started < 60


# Latency figures: `PYTHONPATH=. .venv/bin/python tests/nlu/test_tokenizer.py`.
if __name__ == "__main__":
    component = make_tokenizer()
    for language, sentences in SENTENCES.items():
        started = time.perf_counter()
        tokens_of(component, sentences[0])
        first = time.perf_counter() - started
        timings = []
        for _ in range(200):
            for sentence in sentences:
                started = time.perf_counter()
                tokens_of(component, sentence)
                timings.append(time.perf_counter() - started)
        print(
            f"{language}: first call {first * 1000:7.1f} ms, then median "
            f"{statistics.median(timings) * 1e6:6.0f} µs per message"
        )
    print("init seconds:", tokenizer_module.INIT_SECONDS)


def test_an_email_or_url_keeps_its_text_and_gets_a_placeholder_lemma(tokenizer):
    tokens = tokens_of(tokenizer, "it's anna.schmidt@example.de, see www.example.com/x")
    lemmas = {t.text: t.lemma for t in tokens}
    assert lemmas["anna.schmidt@example.de"] == "__email__"
    assert lemmas["www.example.com/x"] == "__url__"
    assert lemmas["see"] == "see"
    (email,) = [t for t in tokens_of(tokenizer, "メールはanna@example.jpです") if "@" in t.text]
    assert (email.text, email.lemma) == ("anna@example.jp", "__email__")
