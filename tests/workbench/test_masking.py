"""Personal data found in nine languages, hidden, and entity offsets kept right both ways."""

from __future__ import annotations

from itertools import pairwise

import pytest

from borderless.workbench.masking import find_personal_data, mask, synthesize, unmasked
from borderless.workbench.review import normalized


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("where is BL-10001? anna.schmidt@example.de", "where is [order]? [email]"),
        ("ruf mich an: +49 30 1234567", "ruf mich an: [phone]"),
        ("mi numero es 0034 612 345 678", "mi numero es [phone]"),
        ("Tel. 030 1234567 bitte", "Tel. [phone] bitte"),
        ("my name is John Smith, order #bl10002", "my name is [name], order [order]"),
        ("Ich heiße Anna und warte", "Ich heiße [name] und warte"),
        ("je m'appelle Élodie", "je m'appelle [name]"),
        ("私は田中です。注文BL-10002", "私は[name]です。注文[order]"),
        ("我叫王小明，订单BL-10003", "我叫[name]，订单[order]"),
        ("اسمي محمد", "اسمي [name]"),
        ("wo ist mein paket", "wo ist mein paket"),
        ("", ""),
    ],
)
def test_masking(text: str, masked: str) -> None:
    assert mask(text).text == masked


def test_offsets_map_both_ways_and_grow_over_placeholders() -> None:
    text = "Wo ist BL-10001? Mail: anna.schmidt@example.de danke"
    shown = mask(text)
    assert shown.text == "Wo ist [order]? Mail: [email] danke"
    email = shown.text.index("[email]")
    assert shown.to_original(email, email + 7) == (23, 46)
    assert text[23:46] == "anna.schmidt@example.de"
    assert shown.to_original(email + 2, email + 3) == (23, 46)  # part of a placeholder: all
    assert shown.to_original(0, 2) == (0, 2)
    danke = shown.text.index("danke")
    assert shown.to_original(danke, danke + 5) == (text.index("danke"), len(text))
    assert shown.to_rendered(7, 15) == (7, 14)
    exported = synthesize(text)
    start, end = exported.to_rendered(7, 15)
    assert exported.text[start:end] == "BL-10001"
    assert "anna" not in exported.text
    with pytest.raises(ValueError):
        shown.to_original(0, 999)
    with pytest.raises(ValueError):
        shown.to_original(3, 3)


def test_unmasked_is_the_identity() -> None:
    shown = unmasked("anna@example.de")
    assert shown.text == "anna@example.de" and shown.to_original(0, 4) == (0, 4)


def test_spans_do_not_overlap() -> None:
    spans = find_personal_data("BL-10001 +49 30 1234567 a@b.de")
    assert [s.kind for s in spans] == ["order_number", "phone", "email"]
    assert all(a.end <= b.start for a, b in pairwise(spans))


def test_inbox_key_ignores_case_spacing_and_personal_data() -> None:
    assert normalized("Where is BL-10001 ?") == normalized("where   is bl-10002")
