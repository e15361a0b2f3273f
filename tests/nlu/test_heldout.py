"""The held-out sets stay what bench/nlu_eval.py says they are: separate from training, at least
15 messages per intent per language, and a blind set in every language."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data

from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.settings import PROJECT_ROOT

HELDOUT = PROJECT_ROOT / "tests" / "nlu_heldout"
INTENTS = (
    "greet goodbye thanks affirm deny bot_challenge inform order_status shipping_time "
    "shipping_cost return_request refund_status cancel_order change_address payment_problem "
    "product_question request_human complaint data_privacy out_of_scope start_over"
).split()


def _texts(path: Path) -> list[tuple[str, str]]:
    return [(m.get("text"), m.get("intent")) for m in load_data(str(path)).intent_examples]


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_heldout_is_separate_from_training_and_covers_every_intent(language: str) -> None:
    heldout = _texts(HELDOUT / language)
    counts = Counter(intent for _, intent in heldout)
    thin = {intent: counts[intent] for intent in INTENTS if counts[intent] < 15}
    assert not thin, f"fewer than 15 held-out messages in {language}: {thin}"
    training = {_normal(text) for text, _ in _texts(PROJECT_ROOT / "data" / "nlu" / language)}
    leaked = [text for text, _ in heldout if _normal(text) in training]
    assert not leaked, f"held-out messages that are also training data: {leaked[:10]}"


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
def test_every_language_has_a_blind_set_of_every_intent(language: str) -> None:
    blind = _texts(HELDOUT / language / "blind.yml")
    assert {intent for _, intent in blind} == set(INTENTS)
