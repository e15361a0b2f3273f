"""``ShopifyOrders`` changes: returnRequest, orderCancel, orderUpdate(shippingAddress), and the
returns/refunds of an order, against the replay server of ``test_shopify.py``.

Fixtures follow the documented shapes (shopify.dev admin-graphql 2024-07: returnRequest with
ReturnRequestInput, OrderCancelPayload with job + orderCancelUserErrors, orderUpdate with
userErrors); each holds the variables we must send.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from borderless.commerce.errors import (
    BackendRejected,
    ChangeRefused,
    OrderNotFound,
    RateLimited,
)
from borderless.commerce.models import OrderLookup, OrderStatus, ReturnLine, ReturnStatus
from borderless.commerce.shopify import CHANGE_QUERY, ShopifyOrders
from tests.commerce.test_shopify import ANNA, Replay, exchange, server, shop

__all__ = ["server", "shop"]

JACKET = ReturnLine("BL-JKT-M", "Merino Travel Jacket", 1)


async def test_returns_and_refunds_of_an_order(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_delivered_with_returns.json"))
    returns = await shop.list_returns(ANNA)
    assert [(r.reference, r.status) for r in returns] == [
        ("#1001-R1", ReturnStatus.REFUNDED),  # closed, and the order has a refund
        ("#1001-R2", ReturnStatus.REQUESTED),
    ]
    refunded = returns[0]
    assert refunded.refund_amount == Decimal("13.25") and refunded.currency == "USD"
    assert refunded.refunded_at == datetime(2024, 9, 20, 9, 12, 44, tzinfo=timezone.utc)
    assert refunded.items == (ReturnLine("BL-SCK-3", "Wool Socks (3 pairs)", 1),)
    # The query asks for the ids a return needs, and the customer's contact is never sent.
    sent = server.seen[0].json
    assert sent["query"] == CHANGE_QUERY and "fulfillmentLineItems" in sent["query"]
    assert "anna" not in server.seen[0].raw.decode().lower()


async def test_a_return_request_names_the_fulfilment_line(server: Replay, shop: ShopifyOrders):
    server.then(
        exchange("order_delivered_with_returns.json"), exchange("return_request_created.json")
    )
    request = await shop.create_return(ANNA, [JACKET], "damaged", "The zip broke on the first day")
    assert request.reference == "#1001-R3" and request.status is ReturnStatus.REQUESTED
    assert request.order_number == "#1001" and request.items == (JACKET,)
    server.assert_requests_match_script()
    assert "returnRequest(input: $input)" in server.seen[1].json["query"]


async def test_a_refused_return_request_is_a_refusal(server: Replay, shop: ShopifyOrders):
    server.then(
        exchange("order_delivered_with_returns.json"), exchange("return_request_user_error.json")
    )
    with pytest.raises(ChangeRefused) as refused:
        await shop.create_return(ANNA, [JACKET], "damaged", "The zip broke on the first day")
    assert refused.value.code == "nothing_to_return"


async def test_a_line_that_never_shipped_cannot_be_returned(server: Replay, shop: ShopifyOrders):
    server.then(exchange("order_unfulfilled_with_ids.json"))
    with pytest.raises(ChangeRefused):
        await shop.create_return(ANNA, [JACKET], "other", None)
    assert len(server.seen) == 1  # no mutation was sent


async def test_cancel_sends_order_cancel_once(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_unfulfilled_with_ids.json"), exchange("order_cancel_job.json"))
    order = await shop.cancel_order(ANNA)
    assert order.status is OrderStatus.CANCELLED
    server.assert_requests_match_script()
    mutation = server.seen[1].json["query"]
    assert "reason: CUSTOMER" in mutation and "refund: true" in mutation


async def test_cancel_refused_by_shopify(server: Replay, shop: ShopifyOrders) -> None:
    server.then(
        exchange("order_unfulfilled_with_ids.json"), exchange("order_cancel_user_error.json")
    )
    with pytest.raises(ChangeRefused) as refused:
        await shop.cancel_order(ANNA)
    assert refused.value.code == "already_fulfilled"


async def test_a_mutation_is_not_retried_after_a_server_error(server: Replay) -> None:
    client = ShopifyOrders(server.url, "shpat_x", backoff=0.01, attempts=3)
    server.then(exchange("order_unfulfilled_with_ids.json"), exchange("internal_error.json"))
    with pytest.raises(Exception):  # noqa: B017 - BackendUnavailable, whatever its detail
        await client.cancel_order(ANNA)
    await client.close()
    assert len(server.seen) == 2  # the lookup, then the mutation exactly once


async def test_new_address_goes_into_address1_as_given(server: Replay, shop: ShopifyOrders):
    server.then(exchange("order_unfulfilled_with_ids.json"), exchange("order_update_address.json"))
    address = "Anna Schmidt, Torstraße 12, 10119 Berlin"
    order = await shop.change_shipping_address(ANNA, address)
    assert order.shipping_address == address
    server.assert_requests_match_script()


async def test_changes_verify_the_contact_first(server: Replay, shop: ShopifyOrders) -> None:
    server.then(exchange("order_unfulfilled_with_ids.json"))
    with pytest.raises(OrderNotFound):
        await shop.cancel_order(OrderLookup("#1001", email="mallory@example.com"))
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    ("fixture", "error"),
    [("unauthorized.json", BackendRejected), ("throttled.json", RateLimited)],
)
async def test_errors_of_the_change_query(server: Replay, shop: ShopifyOrders, fixture, error):
    server.then(exchange(fixture))
    with pytest.raises(error):
        await shop.list_returns(ANNA)
