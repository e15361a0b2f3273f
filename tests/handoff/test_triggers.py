"""Handoff triggers and VIP rules from demo/handoff_rules.yml, and the queue order they give."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from borderless.handoff.desk import HandoffDesk, HandoffRequest
from borderless.handoff.frustration import COMPLAINT_FLOOR, frustration
from borderless.handoff.routing import priority
from borderless.handoff.teams import Team
from borderless.handoff.tickets import TicketStore
from borderless.handoff.triggers import (
    FRUSTRATION,
    SENSITIVE,
    HandoffRules,
    RulesError,
    Trigger,
    load_rules,
)
from borderless.i18n.language import SUPPORTED_LANGUAGES

RULES_FILE = Path(__file__).resolve().parents[2] / "demo" / "handoff_rules.yml"
TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def rules() -> HandoffRules:
    return load_rules(RULES_FILE)


def test_every_topic_has_patterns_in_every_language(rules: HandoffRules) -> None:
    assert rules.sensitive_topics == {"chargeback", "legal", "safety"}
    for topic, by_language in rules.topics.items():
        assert set(by_language) == set(SUPPORTED_LANGUAGES), topic
        assert all(by_language.values()), topic


@pytest.mark.parametrize(
    ("language", "text", "topic"),
    [
        ("en", "If this isn't fixed I'll file a chargeback", "chargeback"),
        ("de", "Dann mache ich eine Rückbuchung über meine Kreditkarte", "chargeback"),
        ("fr", "Je vais contester le paiement auprès de ma banque", "chargeback"),
        ("es", "Voy a pedir un contracargo", "chargeback"),
        ("it", "Voglio contestare l'addebito con la banca", "chargeback"),
        ("pt", "Vou contestar a compra com a operadora", "chargeback"),
        ("ja", "チャージバックを申請します", "chargeback"),
        ("zh", "我要向银行申诉拒付", "chargeback"),
        ("ar", "سأتصل بالبنك لاسترجاع أموالي", "chargeback"),
        ("en", "My lawyer will be in touch", "legal"),
        ("de", "Ich schalte die Verbraucherzentrale ein", "legal"),
        ("fr", "Je vais porter plainte", "legal"),
        ("es", "Voy a contactar a un abogado", "legal"),
        ("it", "Mi rivolgerò a un avvocato", "legal"),
        ("pt", "Vou reclamar no Procon", "legal"),
        ("ja", "弁護士に相談します", "legal"),
        ("zh", "我要去法院起诉你们", "legal"),
        ("ar", "سأرفع دعوى ضدكم", "legal"),
        ("en", "The charger caught fire last night", "safety"),
        ("de", "Das Ladegerät ist explodiert", "safety"),
        ("fr", "Le chargeur a pris feu", "safety"),
        ("es", "El cargador se incendió", "safety"),
        ("it", "Il caricabatterie ha preso fuoco", "safety"),
        ("pt", "O carregador pegou fogo", "safety"),
        ("ja", "充電器が発火しました", "safety"),
        ("zh", "充电器起火了", "safety"),
        ("ar", "الشاحن انفجر", "safety"),
    ],
)
def test_sensitive_topics_in_every_language(
    rules: HandoffRules, language: str, text: str, topic: str
) -> None:
    trigger = rules.check(text, language)
    assert trigger is not None, text
    assert (trigger.kind, trigger.reason) == (SENSITIVE, topic)
    assert trigger.details and "matched" in trigger.details[0]


@pytest.mark.parametrize(
    "text",
    [
        "Where is my order BL-10001?",
        "Which brand is the charger?",  # German "Brand" (fire) must not fire in English
        "Do you ship to Ireland?",
        "Kann ich meine Bestellung stornieren?",
        "注文はどこですか",
        "o estorno no cartão não apareceu",  # pt: the ordinary refund
        "storno für BL-11733",  # de: a cancellation
        "the blender smells like burnt plastic",
        "",
    ],
)
def test_ordinary_messages_trigger_nothing(rules: HandoffRules, text: str) -> None:
    assert rules.check(text, "en") is None


def test_a_furious_message_triggers_whatever_its_intent(rules: HandoffRules) -> None:
    trigger = rules.check("WHERE IS MY PARCEL, THIS IS A SCAM!!!", "en")
    assert trigger is not None
    assert (trigger.kind, trigger.reason) == (FRUSTRATION, "frustration")
    assert trigger.score >= rules.frustration_threshold
    assert "shouting" in trigger.details
    # Mildly annoyed is not enough.
    assert rules.check("This is ridiculous, where is my parcel?", "en") is None


def test_a_sensitive_topic_wins_over_frustration(rules: HandoffRules) -> None:
    trigger = rules.check("I WILL CALL MY LAWYER, THIS IS A SCAM!!!", "en")
    assert trigger is not None and trigger.reason == "legal"


def test_a_trigger_survives_the_parse_data_and_rejects_garbage() -> None:
    trigger = Trigger(FRUSTRATION, "frustration", 0.85, ("shouting",))
    assert Trigger.from_dict(trigger.as_dict()) == trigger
    for garbage in (None, "x", {}, {"kind": "other", "reason": "x"}, {"kind": SENSITIVE}):
        assert Trigger.from_dict(garbage) is None


@pytest.mark.parametrize(
    ("total", "currency", "previous", "vip"),
    [
        (Decimal("300"), "USD", 0, True),
        (Decimal("299.99"), "USD", 0, False),
        (Decimal("280"), "EUR", 0, True),  # 280 × 1.08 = 302.40 USD
        (Decimal("40000"), "JPY", None, False),  # 268 USD
        (Decimal("50000"), "JPY", None, True),  # 335 USD
        (Decimal("1000"), "XXX", None, False),  # no rate: not judged by value
        (Decimal("10"), "USD", 3, True),  # a repeat customer
        (Decimal("10"), "USD", 2, False),
        (None, None, None, False),  # nothing verified: never a VIP
    ],
)
def test_vip_by_order_value_in_the_shop_currency_or_repeat_orders(
    rules: HandoffRules,
    total: Decimal | None,
    currency: str | None,
    previous: int | None,
    vip: bool,
) -> None:
    assert bool(rules.vip.reasons(total, currency, previous)) is vip


def test_a_complaint_floor_lives_in_the_score_only() -> None:
    assert frustration(["Bitte um Rückruf"], "de", complained=True).score == COMPLAINT_FLOOR
    assert frustration([], "de", complained=True).score == COMPLAINT_FLOOR
    loud = frustration(["THIS IS A SCAM, THE WORST!!!"], "en", complained=True)
    assert loud.score > COMPLAINT_FLOOR and loud.reasons[-1] == "complaint"


def test_priority_ranks_sensitive_then_upset_then_vip() -> None:
    sensitive = priority("legal", 0.0, False, sensitive=True)
    configured_topic = priority("recall", 0.0, False, sensitive=True)
    upset_vip = priority("frustration", 0.9, True)
    calm_vip = priority("request_human", 0.1, True)
    plain = priority("request_human", 0.3, False)
    assert configured_topic == sensitive
    assert sensitive > upset_vip > calm_vip > plain


def test_the_desk_ranks_the_queue_by_the_rules(
    rules: HandoffRules, teams: tuple[Team, ...], tmp_path: Path
) -> None:
    store = TicketStore(f"sqlite:///{tmp_path / 'h.db'}")
    store.create_schema()
    desk = HandoffDesk(teams, store, rules)

    def hand_over(conversation: str, reason: str, **facts: object) -> int:
        request = HandoffRequest(conversation, "rest", "en", reason, **facts)  # type: ignore[arg-type]
        return desk.hand_over(request, TUESDAY).ticket_id

    plain = hand_over("plain", "request_human")
    vip = hand_over("vip", "request_human", order_total=Decimal("450"), order_currency="USD")
    repeat = hand_over("repeat", "request_human", previous_orders=5)
    upset = hand_over("upset", "frustration", frustration=0.8)
    chargeback = hand_over("chargeback", "chargeback")
    assert [t.id for t in store.list_open()] == [chargeback, upset, vip, repeat, plain]
    ticket = store.get(vip)
    assert ticket.vip and ticket.summary["vip"] == "order value 450 USD"
    assert store.get(repeat).summary["vip"] == "5 previous orders"
    assert not store.get(plain).vip and "vip" not in store.get(plain).summary


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("sensitive:\n  legal:\n    en: ['(unclosed']\n", "sensitive.legal.en"),
        ("frustration:\n  threshold: high\n", "threshold"),
        ("vip:\n  order_value: lots\n", "vip.order_value"),
        ("- a list\n", "mapping"),
    ],
)
def test_a_malformed_rules_file_names_the_place(tmp_path: Path, content: str, error: str) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RulesError, match=error):
        load_rules(path)
