"""The frustration score explains itself."""

from __future__ import annotations

import pytest

from borderless.handoff.frustration import NEGATIVE_WORDS, frustration
from borderless.i18n.language import SUPPORTED_LANGUAGES


def test_a_calm_question_scores_nothing() -> None:
    assert frustration(["Where is my order BL-10001?"], "en").score == 0.0


def test_shouting_repetition_and_words_add_up_and_are_named() -> None:
    first = "where is my order"
    result = frustration([first, "WHERE IS MY ORDER!!! THIS IS A SCAM"], "en")
    assert result.score >= 0.7
    assert "shouting" in result.reasons and "piled-up punctuation" in result.reasons
    assert any(r.startswith("negative words") for r in result.reasons)
    again = frustration([first, "Where is my order?"], "en")
    assert again.reasons == ("same message again",)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("de", "Das ist eine Frechheit, ich warte seit Wochen"),
        ("fr", "C'est une arnaque, inadmissible"),
        ("es", "Esto es una estafa"),
        ("it", "Che vergogna, servizio pessimo"),
        ("pt", "Isso é um golpe, absurdo"),
        ("ja", "最悪です。詐欺ですか"),
        ("zh", "你们就是骗子，太差了"),
        ("ar", "هذا نصب واحتيال"),
        ("en", "This is the worst shop ever"),
    ],
)
def test_negative_words_in_every_language(language: str, text: str) -> None:
    assert frustration([text], language).score >= 0.25


def test_every_supported_language_has_words_and_the_score_is_capped() -> None:
    assert set(NEGATIVE_WORDS) == set(SUPPORTED_LANGUAGES)
    loud = "THIS IS A SCAM, THE WORST, RIDICULOUS!!!"
    assert frustration([loud, loud], "en", complained=True).score == 1.0
