"""Order numbers as customers type them, and as other shops format them."""

from __future__ import annotations

import pytest

from borderless.commerce.numbers import OrderNumberFormat

DEFAULT = OrderNumberFormat()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my order is #bl10001", "BL-10001"),
        ("BL 10001", "BL-10001"),
        ("bl-10001", "BL-10001"),
        ("Order BL_10001, placed on Monday", "BL-10001"),
        ("wo ist meine Bestellung BL-10001?", "BL-10001"),
        ("(BL#10001)", "BL-10001"),
        ("注文番号はＢＬ－１０００１です", "BL-10001"),  # full-width, Japanese IME
        ("رقم الطلب BL-١٠٠٠١", "BL-10001"),  # Arabic-Indic digits
        ("first BL-10002 then BL-10003", "BL-10002"),
        ("BL-12345678", "BL-12345678"),
    ],
)
def test_find(text: str, expected: str) -> None:
    assert DEFAULT.find(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "where is my parcel?",
        "call me on 10001",  # bare digits in free text are too ambiguous (zip codes, phones)
        "BL-123",  # too short
        "ABL-10001",  # part of another word
        "BL-10001X",
        "tracking 1Z8V52F40412345675",
        "BL-12345678901",  # too long
    ],
)
def test_find_nothing(text: str) -> None:
    assert DEFAULT.find(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("BL-10001", "BL-10001"),
        (" bl10001 ", "BL-10001"),
        ("#BL 10001", "BL-10001"),
        ("10001", "BL-10001"),  # the answer to "what is your order number?"
        ("#10001", "BL-10001"),
        ("１０００１", "BL-10001"),  # full-width digits
        ("123", None),
        ("my order is BL-10001", None),  # a slot value, not a sentence: use find() for text
        ("LX472918365CN", None),
        ("", None),
    ],
)
def test_normalize(value: str, expected: str | None) -> None:
    assert DEFAULT.normalize(value) == expected


def test_another_shops_format() -> None:
    shopify_like = OrderNumberFormat(
        pattern=r"(?<![0-9A-Za-z])#?(?P<prefix>[A-Z]{2})?(?P<digits>[0-9]{4,6})(?![0-9])",
        canonical="#{digits}",
    )
    assert shopify_like.find("order #1042 please") == "#1042"
    assert shopify_like.normalize("1042") == "#1042"

    prefixed = OrderNumberFormat(
        pattern=r"(?<![0-9A-Za-z])(?P<store>[A-Z]{2})[-\s]?(?P<digits>[0-9]{6})(?![0-9])",
        canonical="{store}-{digits}",
    )
    assert prefixed.find("it's de 123456") == "DE-123456"
    assert prefixed.normalize("123456") is None  # bare digits cannot say which store


def test_canonical_must_only_use_captured_groups() -> None:
    with pytest.raises(ValueError, match="digits"):
        OrderNumberFormat(pattern=r"BL(?P<number>\d+)", canonical="BL-{digits}")
