"""The reference shop's change endpoints: returns, cancellation, address, on their own shop.

A fresh shop for this module, because these tests change orders and the session-wide shop is
shared with read-only tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ShopService, run_shop
from tests.store.test_shop_api import call

ANNA = {"email": "anna.schmidt@example.de"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShopService]:
    folder = tmp_path_factory.mktemp("returns-shop")
    with run_shop(f"sqlite:///{folder / 'shop.db'}", Path(folder / "shop.log")) as service:
        yield service


def post(shop: ShopService, path: str, body: Any, token: str | None = "") -> Any:
    return call(shop, "POST", path, body, token=token)


def test_a_delivered_order_gets_a_return_once(shop: ShopService) -> None:
    body = {
        "number": "BL-10020",
        "email": "javier.lopez@example.org",
        "items": [{"sku": "BL-PROJ-MINI", "quantity": 1}],
        "reason": "damaged",
        "note": "La lente llegó rayada",
    }
    created = post(shop, "/api/returns", body)
    assert created.status == 201, created.raw
    request = created.body["return"]
    assert request["reference"] == "R10020-1"
    assert request["status"] == "requested" and request["reason"] == "damaged"
    assert request["items"] == [
        {"sku": "BL-PROJ-MINI", "title": "Mini projector 1080p", "quantity": 1}
    ]
    listed = post(shop, "/api/returns/lookup", {"number": "bl 10020", "phone": "+34698765432"})
    assert [r["reference"] for r in listed.body["returns"]] == ["R10020-1"]
    again = post(shop, "/api/returns", body)
    assert (again.status, again.body) == (409, {"error": "nothing_to_return"})


def test_the_seeded_refund_is_listed(shop: ShopService) -> None:
    listed = post(
        shop, "/api/returns/lookup", {"number": "BL-10016", "email": "jonas.becker@example.de"}
    )
    (request,) = listed.body["returns"]
    assert request["status"] == "refunded" and request["refund_amount"] == "119.00"
    assert request["refunded_at"]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"number": "BL-10001", **ANNA, "items": [{"sku": "BL-EAR-PRO2"}]}, "not_delivered"),
        (
            {"number": "BL-10013", **ANNA, "items": [{"sku": "NOPE", "quantity": 1}]},
            "nothing_to_return",
        ),
        (
            {"number": "BL-10013", **ANNA, "items": [{"sku": "BL-CHG-65", "quantity": 5}]},
            "nothing_to_return",
        ),
    ],
    ids=["in transit", "not its line", "more than ordered"],
)
def test_returns_the_shop_refuses(shop: ShopService, body: dict[str, Any], error: str) -> None:
    answer = post(shop, "/api/returns", body)
    assert (answer.status, answer.body) == (409, {"error": error})


@pytest.mark.parametrize(
    "path",
    ["/api/returns", "/api/returns/lookup", "/api/orders/cancel", "/api/orders/shipping-address"],
)
def test_a_wrong_contact_and_an_unknown_number_look_the_same(shop: ShopService, path: str) -> None:
    extra = {"items": [{"sku": "X", "quantity": 1}], "address": "Somewhere 1, 12345 Town"}
    wrong = post(shop, path, {"number": "BL-10032", "email": "mallory@example.com", **extra})
    unknown = post(shop, path, {"number": "BL-19999", "email": "mallory@example.com", **extra})
    assert wrong.status == unknown.status == 404
    assert wrong.raw == unknown.raw


JAVIER = {"number": "BL-10020", "email": "javier.lopez@example.org"}


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [],
        JAVIER,
        {**JAVIER, "items": [{"sku": "A", "quantity": 0}]},
        {**JAVIER, "items": [{"sku": "A", "quantity": True}]},
        {**JAVIER, "items": [{"sku": 7}]},
        {**JAVIER, "items": [{"sku": "A"}], "reason": "x"},
        {**JAVIER, "items": [{"sku": "A"}], "note": "n" * 2000},
        {"number": "BL-10020", "items": [{"sku": "A"}]},
    ],
    ids=[
        "not json", "not an object", "no items", "zero", "bool", "sku not text", "reason", "note",
        "no contact",
    ],
)  # fmt: skip
def test_malformed_return_requests_are_400(shop: ShopService, body: Any) -> None:
    answer = post(shop, "/api/returns", body)
    assert answer.status == 400 and answer.body["error"] == "invalid_request"
    assert answer.body["detail"]


def test_cancel_only_before_shipping_and_only_once(shop: ShopService) -> None:
    robert = {"number": "BL-10032", "email": "robert.hughes@example.com"}
    done = post(shop, "/api/orders/cancel", robert)
    assert done.status == 200 and done.body["order"]["status"] == "cancelled"
    lookup = post(shop, "/api/orders/lookup", robert)
    assert lookup.body["order"]["status"] == "cancelled"
    again = post(shop, "/api/orders/cancel", robert)
    assert (again.status, again.body) == (409, {"error": "already_cancelled"})
    shipped = post(shop, "/api/orders/cancel", {"number": "BL-10001", **ANNA})
    assert (shipped.status, shipped.body) == (409, {"error": "already_fulfilled"})


def test_a_new_address_is_stored_as_given(shop: ShopService) -> None:
    noah = {"number": "BL-10041", "email": "noah.fischer@example.ch"}
    address = "Noah Fischer\nBahnhofstrasse 12, 8001 Zürich, Schweiz"
    done = post(shop, "/api/orders/shipping-address", {**noah, "address": address})
    assert done.status == 200 and done.body["order"]["shipping_address"] == address
    lookup = post(shop, "/api/orders/lookup", noah)
    assert lookup.body["order"]["shipping_address"] == address
    shipped = post(
        shop, "/api/orders/shipping-address", {"number": "BL-10001", **ANNA, "address": address}
    )
    assert (shipped.status, shipped.body) == (409, {"error": "already_fulfilled"})


@pytest.mark.parametrize("address", [None, "", "   ", 42, "x" * 501])
def test_a_missing_or_huge_address_is_400(shop: ShopService, address: Any) -> None:
    body = {"number": "BL-10041", "email": "noah.fischer@example.ch", "address": address}
    answer = post(shop, "/api/orders/shipping-address", body)
    assert answer.status == 400


def test_changes_need_the_api_token(shop: ShopService) -> None:
    body = {"number": "BL-10033", "email": "katrin.vogel@example.de"}
    assert post(shop, "/api/orders/cancel", body, token=None).status == 401
    assert post(shop, "/api/orders/cancel", body, token="wrong").status == 401
