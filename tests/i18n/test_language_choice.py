"""The conversation language: locale normalization and the stickiness rules of choose_language."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from borderless.i18n.language import (
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    choose_language,
    normalize_locale,
    pick_language_entity,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def entity(value: Any, role: Any = "detected", **extra: Any) -> dict[str, Any]:
    """A ``language`` entity as LanguageDetector writes it."""
    found = {
        "entity": "language",
        "value": value,
        "start": 0,
        "end": 0,
        "confidence_entity": 0.9,
        "extractor": "LanguageDetector",
        **extra,
    }
    if role is not None:
        found["role"] = role
    return found


# --- constants --------------------------------------------------------------------------------


def test_supported_languages() -> None:
    assert SUPPORTED_LANGUAGES == ("en", "de", "fr", "es", "it", "pt", "ja", "zh", "ar")
    assert DEFAULT_LANGUAGE in SUPPORTED_LANGUAGES


def test_the_module_does_not_import_rasa() -> None:
    # The action server imports it on every start; Rasa would cost seconds and hundreds of MB.
    code = (
        "import sys, borderless.i18n.language; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rasa', 'rasa_sdk', 'lingua')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


# --- normalize_locale -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de", "de"),
        ("DE", "de"),
        (" en ", "en"),
        ("de-DE", "de"),
        ("de_AT", "de"),
        ("en-US", "en"),
        ("en_GB.UTF-8", "en"),
        ("fr-CA", "fr"),
        ("es-419", "es"),
        ("it_CH", "it"),
        ("pt_BR", "pt"),
        ("pt-PT", "pt"),
        ("ja_JP", "ja"),
        ("ja-JP-u-ca-japanese", "ja"),
        ("zh-Hans", "zh"),
        ("zh-Hans-CN", "zh"),
        ("zh_TW", "zh"),
        ("zh-Hant-HK", "zh"),
        ("ar-EG", "ar"),
        ("ar_SA", "ar"),
        ("ar@latin", "ar"),
    ],
)
def test_supported_locales_map_to_their_language(value: str, expected: str) -> None:
    assert normalize_locale(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "  ",
        "ru",
        "ru-RU",
        "nl_NL",
        "ko-KR",
        "C",
        "POSIX",
        "und",
        "deu",  # ISO 639-2/3 codes are not what channels send; refuse rather than guess
        "eng",
        "german",
        "Deutsch",
        "-de",
        "d1",
        "ää",
        "*",
        42,
        ["de"],
        {"language": "de"},
        b"de",
    ],
)
def test_everything_else_is_none(value: Any) -> None:
    assert normalize_locale(value) is None


def test_normalize_locale_can_be_restricted() -> None:
    assert normalize_locale("fr-FR", supported=("en", "de")) is None
    assert normalize_locale("de-DE", supported=("en", "de")) == "de"
    assert normalize_locale("de-DE", supported=iter(["de"])) == "de"


# --- choose_language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "evidence", "expected"),
    [
        # A channel hint always wins.
        (None, entity("de", "hint"), "de"),
        ("en", entity("de", "hint"), "de"),
        ("fr", entity("fr", "hint"), "fr"),
        # A confident detection switches.
        (None, entity("fr", "detected"), "fr"),
        ("en", entity("ja", "detected"), "ja"),
        ("de", entity("de", "detected"), "de"),
        # A guess only fills the gap.
        (None, entity("de", "guess"), "de"),
        ("en", entity("de", "guess"), "en"),
        ("es", entity("pt", "guess"), "es"),
        # No evidence: keep, else default.
        (None, None, DEFAULT_LANGUAGE),
        ("it", None, "it"),
        ("zh", {}, "zh"),
        # A role-less entity is an explicit choice (a "/choose_language{...}" button).
        ("en", entity("de", None), "de"),
        (None, entity("ar", None), "ar"),
    ],
)
def test_choose_language(current: str | None, evidence: Any, expected: str) -> None:
    assert choose_language(current, evidence) == expected


@pytest.mark.parametrize(
    "evidence",
    [
        entity("ru", "hint"),  # unsupported language
        entity("xx", "detected"),
        entity(None, "detected"),
        entity(42, "hint"),
        entity("de", "shouted"),  # unknown role: not evidence we understand
        entity("de", 3),  # malformed role
        "de",  # not an entity at all
    ],
)
def test_unusable_evidence_keeps_the_language(evidence: Any) -> None:
    assert choose_language("fr", evidence) == "fr"
    assert choose_language(None, evidence) == DEFAULT_LANGUAGE


def test_entity_values_are_normalized() -> None:
    assert choose_language("en", entity("pt_BR", "hint")) == "pt"
    assert choose_language("en", entity("DE", "detected")) == "de"


@pytest.mark.parametrize("current", ["ru", "xx", "", "german", 7])
def test_a_bad_current_value_counts_as_none(current: Any) -> None:
    assert choose_language(current, None) == DEFAULT_LANGUAGE
    assert choose_language(current, entity("de", "guess")) == "de"


def test_current_locales_are_normalized() -> None:
    assert choose_language("de-DE", None) == "de"
    assert choose_language("de-DE", entity("fr", "guess")) == "de"


def test_result_is_always_supported() -> None:
    currents = [None, *SUPPORTED_LANGUAGES, "ru"]
    roles = ["hint", "detected", "guess", None, "other"]
    values = [*SUPPORTED_LANGUAGES, "ru", None]
    for current in currents:
        assert choose_language(current, None) in SUPPORTED_LANGUAGES
        for role in roles:
            for value in values:
                assert choose_language(current, entity(value, role)) in SUPPORTED_LANGUAGES


def test_a_conversation_stays_in_its_language() -> None:
    """A German customer on an English-default site, message by message."""
    turns = [
        (entity("de", "guess"), "de"),  # "Hallo" - nothing known yet, so the guess counts
        (None, "de"),  # "BL-10001"
        (entity("en", "guess"), "de"),  # "ok" - a guess does not switch
        (entity("de", "detected"), "de"),  # "wo ist meine Bestellung"
        (entity("en", "detected"), "en"),  # "Can you answer in English please?"
        (entity("de", "guess"), "en"),  # "danke"
        (entity("fr", "hint"), "fr"),  # the customer switched the site to French
    ]
    language: str | None = None
    for evidence, expected in turns:
        language = choose_language(language, evidence)
        assert language == expected


# --- pick_language_entity ---------------------------------------------------------------------


def test_pick_language_entity() -> None:
    order = {"entity": "order_number", "value": "BL-10001", "start": 0, "end": 8}
    guess, detected, hint = entity("en", "guess"), entity("de", "detected"), entity("fr", "hint")
    assert pick_language_entity(None) is None
    assert pick_language_entity([]) is None
    assert pick_language_entity([order]) is None
    assert pick_language_entity([order, guess]) == guess
    assert pick_language_entity([guess, detected]) == detected
    assert pick_language_entity([detected, hint, guess]) == hint
    button = entity("it", None, extractor="RegexMessageHandler")
    assert pick_language_entity([detected, button]) == button
    assert pick_language_entity([entity("ru", "hint"), guess]) == guess
    assert pick_language_entity([entity("de", "other")]) is None
    first, second = entity("de", "detected"), entity("fr", "detected")
    assert pick_language_entity([first, second]) == first
