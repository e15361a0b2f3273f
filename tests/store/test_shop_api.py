"""The reference shop's HTTP API, against the real service started by ``shop_service``."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import pytest


class Service(Protocol):
    base_url: str
    api_token: str


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw)


def connect(service: Service) -> http.client.HTTPConnection:
    parts = urlsplit(service.base_url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)


def call(
    service: Service,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | list[Any] | None = None,
    token: str | None = "",
) -> Reply:
    """One request over a fresh connection; ``token=""`` means the right one, ``None`` none."""
    connection = connect(service)
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token or service.api_token}"
    payload = json.dumps(body).encode() if isinstance(body, dict | list) else body
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        connection.close()


def lookup(service: Service, **fields: Any) -> Reply:
    return call(service, "POST", "/api/orders/lookup", fields)


def test_health_needs_no_token_and_counts_orders(shop_service: Service) -> None:
    reply = call(shop_service, "GET", "/health", token=None)
    assert reply.status == 200
    assert reply.body["status"] == "ok"
    assert reply.body["orders"] >= 22


def test_lookup_by_email(shop_service: Service) -> None:
    reply = lookup(shop_service, number="BL-10001", email="anna.schmidt@example.de")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("application/json")
    order = reply.body["order"]
    assert order["number"] == "BL-10001"
    assert order["status"] == "in_transit"
    assert order["total"] == "102.30"
    assert order["currency"] == "EUR"
    assert order["placed_at"].endswith("+00:00")
    assert order["shipments"] == [
        {
            "carrier": "DHL",
            "tracking_number": "4817203956",
            "tracking_url": "https://www.dhl.com/de-en/home/tracking.html?tracking-id=4817203956",
        }
    ]
    assert [i["sku"] for i in order["items"]] == ["BL-EAR-PRO2", "BL-CASE-EAR"]


@pytest.mark.parametrize(
    "fields",
    [
        {"number": "BL-10002", "email": "John.Miller@Example.COM"},
        {"number": "bl10002", "email": " john.miller@example.com "},
        {"number": "#BL 10002", "phone": "+1 (512) 555-0142"},
        {"number": "BL-10002", "phone": "001 512 555 0142"},
        {"number": "BL-10002", "email": "wrong@example.com", "phone": "+15125550142"},
    ],
)
def test_lookup_accepts_every_way_of_proving_ownership(
    shop_service: Service, fields: dict[str, str]
) -> None:
    reply = lookup(shop_service, **fields)
    assert reply.status == 200, reply.raw
    assert reply.body["order"]["email"] == "john.miller@example.com"


def test_split_order_lists_both_parcels(shop_service: Service) -> None:
    reply = lookup(shop_service, number="BL-10014", email="emily.johnson@example.com")
    assert [s["carrier"] for s in reply.body["order"]["shipments"]] == ["UPS", "USPS"]


def test_wrong_contact_is_indistinguishable_from_an_unknown_number(shop_service: Service) -> None:
    wrong_email = lookup(shop_service, number="BL-10001", email="someone@example.de")
    wrong_phone = lookup(shop_service, number="BL-10001", phone="+4915100000000")
    unknown = lookup(shop_service, number="BL-99999", email="anna.schmidt@example.de")
    no_phone_on_file = lookup(shop_service, number="BL-10015", phone="+447700900456")
    for reply in (wrong_email, wrong_phone, unknown, no_phone_on_file):
        assert reply.status == 404
        assert reply.raw == unknown.raw
        assert reply.body == {"error": "order_not_found"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "valid JSON"),
        (b"\xff\xfe", "valid JSON"),
        (b"", "valid JSON"),
        (["BL-10001"], "JSON object"),
        ({"email": "anna.schmidt@example.de"}, "number"),
        ({"number": "  ", "email": "anna.schmidt@example.de"}, "number"),
        ({"number": "BL-10001"}, "email or phone"),
        ({"number": "BL-10001", "email": "", "phone": None}, "email or phone"),
        ({"number": 10001, "email": "anna.schmidt@example.de"}, "number must be a string"),
        ({"number": "BL-10001", "email": ["a@b.de"]}, "email must be a string"),
        ({"number": "BL-10001", "email": "a" * 400 + "@example.de"}, "longer"),
    ],
)
def test_malformed_lookups_are_400(shop_service: Service, body: Any, detail: str) -> None:
    reply = call(shop_service, "POST", "/api/orders/lookup", body)
    assert reply.status == 400
    assert reply.body["error"] == "invalid_request"
    assert detail in reply.body["detail"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", "Basic dGVzdA==", "Bearer", "Bearer test-shop-token-and-more"],
)
def test_api_requires_the_bearer_token(shop_service: Service, authorization: str | None) -> None:
    for method, path, body in [
        ("POST", "/api/orders/lookup", b'{"number":"BL-10001","email":"anna.schmidt@example.de"}'),
        ("GET", "/api/tracking/DHL/4817203956", None),
    ]:
        connection = connect(shop_service)
        headers = {} if authorization is None else {"Authorization": authorization}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        assert response.status == 401
        assert json.loads(response.read()) == {"error": "unauthorized"}
        connection.close()


def test_bearer_scheme_is_case_insensitive(shop_service: Service) -> None:
    connection = connect(shop_service)
    connection.request(
        "GET",
        "/api/tracking/DHL/4817203956",
        headers={"Authorization": f"bearer {shop_service.api_token}"},
    )
    assert connection.getresponse().status == 200
    connection.close()


def test_oversized_body_is_413(shop_service: Service) -> None:
    padding = "x" * (65 * 1024)
    reply = lookup(shop_service, number="BL-10001", email="anna.schmidt@example.de", pad=padding)
    assert reply.status == 413
    assert reply.body == {"error": "payload_too_large"}


def test_a_body_just_under_the_limit_is_fine(shop_service: Service) -> None:
    padding = "x" * (60 * 1024)
    reply = lookup(shop_service, number="BL-10001", email="anna.schmidt@example.de", pad=padding)
    assert reply.status == 200


def test_tracking(shop_service: Service) -> None:
    reply = call(shop_service, "GET", "/api/tracking/DHL/4817203956")
    assert reply.status == 200
    tracking = reply.body["tracking"]
    assert tracking["carrier"] == "DHL"
    assert tracking["tracking_number"] == "4817203956"
    times = [c["time"] for c in tracking["checkpoints"]]
    assert times == sorted(times)
    assert len(times) >= 5
    assert tracking["status"] == tracking["checkpoints"][-1]["status"] == "in_transit"
    assert tracking["checkpoints"][0]["status"] == "info_received"
    assert tracking["estimated_delivery"] is not None
    assert tracking["tracking_url"].startswith("https://")


@pytest.mark.parametrize(
    ("carrier", "number", "status"),
    [
        ("China Post", "LX472918365CN", "in_transit"),
        ("china-post", "lx 472 918 365 cn", "in_transit"),
        ("Correios", "NL482915736BR", "customs"),
        ("Royal Mail", "RB718204536GB", "delivery_failed"),
        ("Australia Post", "33QZX4602817", "available_for_pickup"),
        ("UPS", "1Z4A7E960312837465", "delivered"),
    ],
)
def test_tracking_matches_carrier_and_number_loosely(
    shop_service: Service, carrier: str, number: str, status: str
) -> None:
    reply = call(shop_service, "GET", f"/api/tracking/{quote(carrier)}/{quote(number)}")
    assert reply.status == 200, reply.raw
    assert reply.body["tracking"]["status"] == status


@pytest.mark.parametrize(
    ("carrier", "number"),
    [("DHL", "0000000000"), ("UPS", "4817203956"), ("DHL", quote("../../health", safe=""))],
)
def test_unknown_tracking_is_404(shop_service: Service, carrier: str, number: str) -> None:
    reply = call(shop_service, "GET", f"/api/tracking/{carrier}/{number}")
    assert reply.status == 404
    assert reply.body == {"error": "tracking_not_found"}


def test_unknown_routes_and_methods_answer_in_json(shop_service: Service) -> None:
    assert call(shop_service, "GET", "/api/nothing-here").body == {"error": "not_found"}
    wrong = call(shop_service, "GET", "/api/orders/lookup")
    assert wrong.status == 405
    assert wrong.body == {"error": "method_not_allowed"}


@pytest.mark.parametrize(
    "path", ["/%61pi/orders/lookup", "/api//orders/lookup", "/api/orders/lookup/"]
)
def test_no_path_spelling_slips_past_the_token_check(shop_service: Service, path: str) -> None:
    reply = call(
        shop_service,
        "POST",
        path,
        {"number": "BL-10001", "email": "anna.schmidt@example.de"},
        token=None,
    )
    assert reply.status in (401, 404)
    assert "order" not in reply.body
