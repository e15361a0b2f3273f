"""The ticket summary's structured fields in the agent's language (console.po catalogs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from borderless.handoff.summary import REASONS, ConsoleCatalog, problems
from borderless.i18n.language import SUPPORTED_LANGUAGES

LOCALES = Path(__file__).resolve().parents[2] / "locales"
SUMMARY = {
    "reason": "request_human",
    "last_intents": ["order_status", "complaint"],
    "language": "de",
    "verified_order": "BL-10001",
    "failed_verifications": 0,
    "last_message": "Ich möchte mit einem Menschen sprechen",
    "frustration": "shouting, negative words: frechheit",
    "vip": "order value 450.00 EUR, 4 previous orders",
    "trigger": "matched 'Rückbuchung'",
    "agent_language": "en",
    "custom_field": "kept",
}


@pytest.fixture(scope="module")
def catalog() -> ConsoleCatalog:
    return ConsoleCatalog.load(LOCALES)


def test_every_language_has_a_complete_console_catalog() -> None:
    assert problems(LOCALES, SUPPORTED_LANGUAGES) == []


def test_the_reason_of_every_intent_has_a_label() -> None:
    import yaml

    domain = yaml.safe_load((LOCALES.parent / "domain.yml").read_text(encoding="utf-8"))
    intents = {i for i in domain["intents"] if not i.startswith("EXTERNAL_")}
    assert intents <= set(REASONS), intents - set(REASONS)


def test_an_english_speaking_agent_reads_english(catalog: ConsoleCatalog) -> None:
    lines = {line.key: (line.label, line.value) for line in catalog.lines(SUMMARY, "en")}
    assert lines["reason"] == ("Reason", "Asked for a person")
    assert lines["last_intents"] == ("Last intents", "Order status, Complaint")
    assert lines["language"] == ("Customer language", "German (de)")
    assert lines["frustration"][1] == "shouting, negative words: frechheit"
    assert lines["custom_field"] == ("custom_field", "kept")


def test_a_japanese_agent_reads_a_german_customers_summary_in_japanese(
    catalog: ConsoleCatalog,
) -> None:
    lines = {line.key: (line.label, line.value) for line in catalog.lines(SUMMARY, "ja")}
    assert lines["reason"] == ("理由", "担当者を希望")
    assert lines["last_intents"][1] == "注文状況, 苦情"
    assert lines["language"] == ("お客様の言語", "ドイツ語 (de)")
    assert lines["frustration"][1] == "大文字の連続（怒鳴り）, 否定的な言葉: frechheit"
    assert lines["vip"][1] == "注文金額 450.00 EUR, 4 過去の注文数"
    # What the customer wrote, and identifiers, are never translated.
    assert lines["last_message"][1] == SUMMARY["last_message"]
    assert lines["verified_order"][1] == "BL-10001"
    assert lines["trigger"][1] == "検出 'Rückbuchung'"


def test_unknown_codes_are_shown_readably(catalog: ConsoleCatalog) -> None:
    [line] = catalog.lines({"reason": "brand_new_intent"}, "de")
    assert line.value == "brand new intent"
    assert catalog.lines({"reason": None, "language": ""}, "de") == []
