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
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def detection(language: Any, role: Any = "detected", **extra: Any) -> dict[str, Any]:
    """A ``language_detection`` dict as LanguageDetector writes it."""
    return {
        "detected": language,
        "confidence": 0.9,
        "runner_up": "en",
        "runner_up_confidence": 0.1,
        "units": 5,
        "strength": "strong",
        "hint": None,
        "language": language,
        "role": role,
        **extra,
    }


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
        (None, detection("de", "hint"), "de"),
        ("en", detection("de", "hint"), "de"),
        ("fr", detection("fr", "hint"), "fr"),
        # A confident detection switches.
        (None, detection("fr", "detected"), "fr"),
        ("en", detection("ja", "detected"), "ja"),
        ("de", detection("de", "detected"), "de"),
        # A guess only fills the gap.
        (None, detection("de", "guess"), "de"),
        ("en", detection("de", "guess"), "en"),
        ("es", detection("pt", "guess"), "es"),
        # No evidence: keep, else default.
        (None, None, DEFAULT_LANGUAGE),
        ("it", None, "it"),
        ("zh", {}, "zh"),
        ("ar", detection(None, None), "ar"),
        (None, detection(None, None), DEFAULT_LANGUAGE),
    ],
)
def test_choose_language(current: str | None, evidence: Any, expected: str) -> None:
    assert choose_language(current, evidence) == expected


def test_only_language_and_role_count() -> None:
    # "detected" is lingua's raw answer, kept for analytics; "language" is the verdict.
    hinted = detection("en", "hint", detected="de", hint="en")
    assert choose_language("de", hinted) == "en"
    assert choose_language("fr", {"language": "de", "role": "detected"}) == "de"
    assert choose_language("fr", {"detected": "de", "role": "detected"}) == "fr"
    assert choose_language("fr", {"language": "de"}) == "fr"  # no role: no evidence


@pytest.mark.parametrize(
    "evidence",
    [
        detection("ru", "hint"),  # unsupported language
        detection("xx", "detected"),
        detection(None, "detected"),
        detection(42, "hint"),
        detection("de", None),  # role None: the detector found nothing usable
        detection("de", "shouted"),  # unknown role: not evidence we understand
        detection("de", 3),  # malformed role
        detection("de", ["hint"]),
        "de",  # not a detection dict at all
        ["de", "hint"],
        {"entity": "language", "value": "de", "role": "hint"},  # an entity is not a detection
    ],
)
def test_unusable_evidence_keeps_the_language(evidence: Any) -> None:
    assert choose_language("fr", evidence) == "fr"
    assert choose_language(None, evidence) == DEFAULT_LANGUAGE


def test_detected_languages_are_normalized() -> None:
    assert choose_language("en", detection("pt_BR", "hint")) == "pt"
    assert choose_language("en", detection("DE", "detected")) == "de"


@pytest.mark.parametrize("current", ["ru", "xx", "", "german", 7])
def test_a_bad_current_value_counts_as_none(current: Any) -> None:
    assert choose_language(current, None) == DEFAULT_LANGUAGE
    assert choose_language(current, detection("de", "guess")) == "de"


def test_current_locales_are_normalized() -> None:
    assert choose_language("de-DE", None) == "de"
    assert choose_language("de-DE", detection("fr", "guess")) == "de"


def test_result_is_always_supported() -> None:
    currents = [None, *SUPPORTED_LANGUAGES, "ru"]
    roles = ["hint", "detected", "guess", None, "other"]
    values = [*SUPPORTED_LANGUAGES, "ru", None]
    for current in currents:
        assert choose_language(current, None) in SUPPORTED_LANGUAGES
        for role in roles:
            for value in values:
                assert choose_language(current, detection(value, role)) in SUPPORTED_LANGUAGES


def test_a_conversation_stays_in_its_language() -> None:
    """A German customer on an English-default site, message by message."""
    turns = [
        (detection("de", "guess"), "de"),  # "Hallo" - nothing known yet, so the guess counts
        (detection(None, None), "de"),  # "BL-10001"
        (None, "de"),  # a message parsed without the detector
        (detection("en", "guess"), "de"),  # "ok" - a guess does not switch
        (detection("de", "detected"), "de"),  # "wo ist meine Bestellung"
        (detection("en", "detected"), "en"),  # "Can you answer in English please?"
        (detection("de", "guess"), "en"),  # "danke"
        (detection("fr", "hint"), "fr"),  # the customer switched the site to French
    ]
    language: str | None = None
    for evidence, expected in turns:
        language = choose_language(language, evidence)
        assert language == expected
