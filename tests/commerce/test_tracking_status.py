"""Vendor status codes, customs wording and time stamps in our own vocabulary."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from borderless.commerce.models import TrackingStatus as S
from borderless.commerce.tracking_status import (
    AFTERSHIP_TAGS,
    SEVENTEENTRACK_STATUSES,
    aftership_status,
    carrier_key,
    compact_number,
    mentions_customs,
    parse_day,
    parse_instant,
    seventeentrack_status,
)


@pytest.mark.parametrize(
    ("tag", "subtag", "expected"),
    [
        ("InfoReceived", "InfoReceived_001", S.INFO_RECEIVED),
        ("InTransit", "InTransit_001", S.IN_TRANSIT),
        ("InTransit", "InTransit_007", S.IN_TRANSIT),  # departure scan
        ("InTransit", "InTransit_006", S.CUSTOMS),  # handed over to customs
        ("InTransit", "InTransit_005", S.IN_TRANSIT),  # customs clearance completed
        ("OutForDelivery", "OutForDelivery_001", S.OUT_FOR_DELIVERY),
        ("OutForDelivery", "OutForDelivery_002", S.AVAILABLE_FOR_PICKUP),
        ("AttemptFail", "AttemptFail_002", S.DELIVERY_FAILED),
        ("Delivered", "Delivered_001", S.DELIVERED),
        ("AvailableForPickup", "AvailableForPickup_001", S.AVAILABLE_FOR_PICKUP),
        ("Exception", "Exception_004", S.CUSTOMS),  # delayed in customs clearance
        ("Exception", "Exception_003", S.EXCEPTION),  # refused
        ("Expired", "Expired_001", S.EXPIRED),
        ("Pending", "Pending_001", None),  # nothing to report yet
        ("Teleported", None, None),  # a tag AfterShip might add
        (None, "Delivered_002", S.DELIVERED),  # a subtag alone names its tag
        ("intransit", None, S.IN_TRANSIT),  # case drift
    ],
)
def test_aftership_tags_and_subtags(tag: str | None, subtag: str | None, expected: S) -> None:
    assert aftership_status(tag, subtag) is expected


@pytest.mark.parametrize(
    ("status", "sub_status", "expected"),
    [
        ("InfoReceived", "InfoReceived", S.INFO_RECEIVED),
        ("InTransit", "InTransit_PickedUp", S.IN_TRANSIT),
        ("InTransit", "InTransit_Other", S.IN_TRANSIT),
        ("InTransit", "InTransit_CustomsProcessing", S.CUSTOMS),
        ("InTransit", "InTransit_CustomsRequiringInformation", S.CUSTOMS),
        ("InTransit", "InTransit_CustomsReleased", S.IN_TRANSIT),
        ("Expired", "Expired_Other", S.EXPIRED),
        ("AvailableForPickup", "AvailableForPickup_Other", S.AVAILABLE_FOR_PICKUP),
        ("OutForDelivery", "OutForDelivery_Other", S.OUT_FOR_DELIVERY),
        ("DeliveryFailure", "DeliveryFailure_NoBody", S.DELIVERY_FAILED),
        ("DeliveryFailure", "DeliveryFailure_Security", S.DELIVERY_FAILED),
        ("Delivered", "Delivered_Other", S.DELIVERED),
        ("Exception", "Exception_Returning", S.EXCEPTION),
        ("Exception", "Exception_Security", S.CUSTOMS),
        ("NotFound", "NotFound_Other", None),
        ("NotFound", "NotFound_InvalidCode", None),
        (None, "InTransit_CustomsProcessing", S.CUSTOMS),  # events carry only a sub_status
        (None, "Exception_Lost", S.EXCEPTION),
        (None, None, None),
    ],
)
def test_seventeentrack_statuses(status: str | None, sub_status: str | None, expected: S) -> None:
    assert seventeentrack_status(status, sub_status) is expected


def test_every_main_status_but_no_information_is_mapped() -> None:
    assert set(AFTERSHIP_TAGS) | {"Pending"} == {
        "Pending",
        "InfoReceived",
        "InTransit",
        "OutForDelivery",
        "AttemptFail",
        "Delivered",
        "AvailableForPickup",
        "Exception",
        "Expired",
    }
    assert set(SEVENTEENTRACK_STATUSES) | {"NotFound"} == {
        "NotFound",
        "InfoReceived",
        "InTransit",
        "Expired",
        "AvailableForPickup",
        "OutForDelivery",
        "DeliveryFailure",
        "Delivered",
        "Exception",
    }


@pytest.mark.parametrize(
    "message",
    [
        "Handed over to customs",
        "Held by Customs: awaiting clearance",
        "Die Sendung wird vom Zoll geprüft.",
        "Sendung beim Zollamt eingetroffen",
        "Colis en cours de dédouanement",
        "Envío retenido en aduana",
        "Encaminhado para fiscalização aduaneira",
        "Aguardando liberação na alfândega",
        "In consegna alla dogana",
        "进口清关中",
        "海关查验",
        "已到达海關",
        "通関手続中",
        "税関検査中",
        "الشحنة لدى الجمارك",
        "التخليص الجمركي قيد التنفيذ",
    ],
)
def test_customs_in_every_language_we_route_through(message: str) -> None:
    assert mentions_customs(message)
    assert aftership_status("InTransit", "InTransit_001", message) is S.CUSTOMS
    assert seventeentrack_status("InTransit", "InTransit_Other", message) is S.CUSTOMS


@pytest.mark.parametrize(
    "message",
    [
        "Customs clearance completed",
        "Released by customs",
        "Cleared Customs",
        "Zollabfertigung abgeschlossen",
        "Colis dédouané",
        "Liberado por la aduana",
        "Fiscalização aduaneira finalizada",
        "Sdoganato",
        "清关完成",
        "海关放行",
        "輸入許可 (税関)",
        "通関完了",
        "تم الإفراج من الجمارك",
    ],
)
def test_customs_done_is_transit_again(message: str) -> None:
    assert not mentions_customs(message)
    assert aftership_status("InTransit", "InTransit_001", message) is S.IN_TRANSIT


@pytest.mark.parametrize(
    "message",
    ["Arrived at facility", "Customer not at home", "", None, "离开深圳处理中心"],
)
def test_other_messages_are_not_customs(message: str | None) -> None:
    assert not mentions_customs(message)


def test_the_keyword_fallback_only_reads_plain_transit() -> None:
    customs = "Held at customs"
    # A code with its own verdict wins over the words ...
    assert aftership_status("InTransit", "InTransit_005", customs) is S.IN_TRANSIT
    assert seventeentrack_status("InTransit", "InTransit_CustomsReleased", customs) is S.IN_TRANSIT
    # ... and statuses other than "in transit" are never turned into customs.
    assert aftership_status("Exception", "Exception_001", customs) is S.EXCEPTION
    assert seventeentrack_status("Delivered", None, customs) is S.DELIVERED
    assert aftership_status("Pending", None, customs) is None


def test_default_stands_in_for_unknown_codes_and_still_hears_customs() -> None:
    assert aftership_status("Warp", None, default=S.IN_TRANSIT) is S.IN_TRANSIT
    assert aftership_status("Warp", None, "Zoll", default=S.IN_TRANSIT) is S.CUSTOMS
    assert seventeentrack_status(None, None, "清关中", default=S.IN_TRANSIT) is S.CUSTOMS


def test_parse_instant() -> None:
    assert parse_instant("2025-03-06T08:15:00+01:00") == datetime(
        2025, 3, 6, 7, 15, tzinfo=timezone.utc
    )
    assert parse_instant("2025-03-06T07:15:00Z") == datetime(2025, 3, 6, 7, 15, tzinfo=timezone.utc)
    naive = parse_instant("2025-02-24T09:41:00")
    assert naive == datetime(2025, 2, 24, 9, 41, tzinfo=timezone.utc)
    assert parse_instant("2025-02-24T09:41:00", assume_utc=False) is None
    offset = parse_instant("2025-03-01T09:12:00.123+08:00")
    assert offset is not None and offset.utcoffset() == timedelta(hours=8)
    for junk in (None, "", "  ", "yesterday", 1700000000):
        assert parse_instant(junk) is None


def test_parse_day_keeps_the_day_where_it_was_written() -> None:
    assert parse_day("2025-03-12") == date(2025, 3, 12)
    assert parse_day("2025-03-12T23:59:59+01:00") == date(2025, 3, 12)
    assert parse_day("2025-03-12T00:30:00-05:00") == date(2025, 3, 12)
    assert parse_day("2025-03-12T10:00:00Z") == date(2025, 3, 12)
    for junk in (None, "", "soon", "2025-13-01", 20250312):
        assert parse_day(junk) is None


def test_numbers_and_carrier_names() -> None:
    assert compact_number(" LX 472 918 365CN ") == "LX472918365CN"
    assert carrier_key(" China  Post") == carrier_key("china-post") == "china post"
    assert carrier_key("FedEx") == "fedex"
