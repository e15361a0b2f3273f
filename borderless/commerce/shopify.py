"""``OrderSystem`` over the Shopify Admin GraphQL API.

GraphQL, not REST: Shopify made the REST Admin API legacy in October 2024, and one GraphQL query
returns the order, its line items and every fulfillment with tracking (REST needs two calls).

Why the lookup is shaped the way it is:

* We search by order **name only** (``name:#1001``) and check the email or phone in our own code
  with ``OrderLookup.matches``. Shopify has no phone filter, and a filter on the number alone
  must never decide disclosure: a wrong contact raises the same ``OrderNotFound`` as an unknown
  number, so the assistant cannot be used to enumerate orders. The contact is never sent.
* Shopify only shows the last **60 days** of orders unless the app has the ``read_all_orders``
  scope; older orders are silently absent (so: ``OrderNotFound``). Cross-border parcels travel
  long, so grant that scope.
* Shopify limits GraphQL by calculated query cost (leaky bucket, 100 points/s on the Standard
  plan). This query *requests* a few hundred points (``first: 5`` orders x ``first: 50`` line
  items) but Shopify refunds the difference and bills the actual cost, roughly 10-20 points for
  a typical order, so a local bucket of 2 calls/s with bursts of 10 stays well under the limit
  (and far under Advanced/Plus limits). A ``THROTTLED`` answer is not retried: refilling a few
  hundred points takes seconds, more than the customer-facing budget.

Field names checked against the reference sheet are used as documented; those marked [M] below
are not verified there (see ``/work/shared/reference/external-apis.md``, section 1a).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    ChangeRefused,
    OrderNotFound,
    RateLimited,
)
from borderless.commerce.http import Answer, JsonHttpClient, RateLimiter, TtlCache
from borderless.commerce.models import (
    LineItem,
    Order,
    OrderLookup,
    OrderStatus,
    ReturnLine,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    normalize_email,
    normalize_phone,
)

SYSTEM = "shopify"
CACHE_TTL = 60.0
# Calls, not cost points: see the module docstring for why this is conservative.
CALLS_PER_SECOND = 2.0
BURST = 10

# API facts beyond the reference sheet (external-apis.md 1a):
# - Checked in stored copies of shopify.dev (2024-04..2024-10) while writing this adapter, not in
#   the sheet: Fulfillment.{status, displayStatus, createdAt, deliveredAt, estimatedDeliveryAt,
#   trackingInfo} and the FulfillmentDisplayStatus / FulfillmentStatus values used below.
# - [M], unverified: the `name:` search filter and how loosely it matches (we re-check the exact
#   name); Order.{phone, shippingAddress, billingAddress, countryCodeV2, shippingLine,
#   presentmentMoney}; LineItem.originalUnitPriceSet; the list arguments
#   `fulfillments(first:)` and `trackingInfo(first:)`; `trackingInfo{number url company}`
#   (also [M] in the sheet); the query cost figures in the module docstring.
ORDER_QUERY = """
query BorderlessOrderByName($query: String!) {
  orders(first: 5, query: $query) {
    nodes {
      id
      name
      email
      phone
      createdAt
      cancelledAt
      displayFinancialStatus
      displayFulfillmentStatus
      currencyCode
      totalPriceSet {
        shopMoney { amount currencyCode }
        presentmentMoney { amount currencyCode }
      }
      shippingAddress { countryCodeV2 phone }
      billingAddress { countryCodeV2 phone }
      shippingLine { title }
      lineItems(first: 50) {
        nodes {
          sku
          title
          quantity
          originalUnitPriceSet {
            shopMoney { amount currencyCode }
            presentmentMoney { amount currencyCode }
          }
        }
      }
      fulfillments(first: 10) {
        status
        displayStatus
        createdAt
        deliveredAt
        estimatedDeliveryAt
        trackingInfo(first: 5) { number url company }
      }
    }
  }
}
""".strip()

# The same order, plus what a change needs: the fulfilment line item ids a return refers to,
# the order's returns and refunds. Field names as documented for 2024-07 (returnRequest,
# Return{name status}, Order{returns refunds}, Fulfillment.fulfillmentLineItems) [V: shopify.dev
# admin-graphql 2024-04..2024-10 pages]; Refund.totalRefundedSet [M].
CHANGE_QUERY = ORDER_QUERY.replace(
    "trackingInfo(first: 5) { number url company }",
    "trackingInfo(first: 5) { number url company }\n"
    "        fulfillmentLineItems(first: 50) { nodes { id quantity lineItem { sku title } } }",
).replace(
    "      fulfillments(first: 10) {",
    "      returns(first: 10) {\n"
    "        nodes { id name status returnLineItems(first: 50) { nodes {\n"
    "          quantity ... on ReturnLineItem { fulfillmentLineItem { lineItem { sku title } } }\n"
    "        } } }\n"
    "      }\n"
    "      refunds(first: 10) {\n"
    "        id createdAt totalRefundedSet { shopMoney { amount currencyCode } }\n"
    "      }\n"
    "      fulfillments(first: 10) {",
)

RETURN_REQUEST = """
mutation BorderlessReturnRequest($input: ReturnRequestInput!) {
  returnRequest(input: $input) {
    return { id name status }
    userErrors { field message code }
  }
}
""".strip()

ORDER_CANCEL = """
mutation BorderlessOrderCancel($orderId: ID!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: CUSTOMER, refund: true, restock: true,
              notifyCustomer: true, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}
""".strip()

ORDER_UPDATE_ADDRESS = """
mutation BorderlessOrderAddress($input: OrderInput!) {
  orderUpdate(input: $input) {
    order { id }
    userErrors { field message }
  }
}
""".strip()

# Our reason codes in Shopify's ReturnReason enum; a size problem is told in the note, since
# we do not ask whether it was too small or too large.
RETURN_REASONS = {
    "wrong_size": "OTHER",
    "damaged": "DEFECTIVE",
    "not_as_described": "NOT_AS_DESCRIBED",
    "changed_mind": "UNWANTED",
    "wrong_item": "WRONG_ITEM",
    "other": "OTHER",
}
_RETURN_STATUS = {
    "REQUESTED": ReturnStatus.REQUESTED,
    "OPEN": ReturnStatus.APPROVED,
    "CLOSED": ReturnStatus.RECEIVED,  # refunded ones are matched with a refund below
    "DECLINED": ReturnStatus.DECLINED,
    "CANCELED": ReturnStatus.CLOSED,
}
MAX_CUSTOMER_NOTE = 300  # ReturnRequestLineItemInput.customerNote [V]
MAX_ADDRESS_LINE = 255

# What a customer may type as the part after the shop's prefix: letters, digits, - and _.
# Anything else could smuggle search syntax ("1001 OR email:*") into the query.
_NAME_CORE = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,31}")
_SHOP_HANDLE = re.compile(r"[a-z0-9][a-z0-9-]*")
_API_VERSION = re.compile(r"\d{4}-\d{2}|unstable")

# Financial statuses that mean "the shop has not got the money", as long as nothing has shipped.
# PENDING also covers cash on delivery and manual payments; once a parcel is out, tracking wins.
# AUTHORIZED is *paid* from the customer's side (the card is held, captured at fulfilment).
_UNPAID = {"PENDING", "EXPIRED", "VOIDED"}
# Fulfilments that never became a parcel.
_DEAD_FULFILLMENTS = {"CANCELLED", "ERROR", "FAILURE"}
_DEAD_DISPLAY = {"CANCELED", "LABEL_VOIDED"}
# Fulfillment.displayStatus -> parcel status; anything else (CONFIRMED, LABEL_PRINTED,
# READY_FOR_PICKUP, ...) means "shipped", and the live tracking tells the rest.
_PARCEL_STATUS = {
    "IN_TRANSIT": OrderStatus.IN_TRANSIT,
    "CARRIER_PICKED_UP": OrderStatus.IN_TRANSIT,  # newer API versions than 2024-07
    "DELAYED": OrderStatus.IN_TRANSIT,  # newer API versions; late, but still travelling
    "OUT_FOR_DELIVERY": OrderStatus.OUT_FOR_DELIVERY,
    "DELIVERED": OrderStatus.DELIVERED,
    "PICKED_UP": OrderStatus.DELIVERED,  # local pick-up: the customer has it
    "ATTEMPTED_DELIVERY": OrderStatus.EXCEPTION,
    "FAILURE": OrderStatus.EXCEPTION,
    "NOT_DELIVERED": OrderStatus.EXCEPTION,
}
# How far a parcel has come; an order is as far as its slowest parcel.
_PROGRESS = [
    OrderStatus.SHIPPED,
    OrderStatus.IN_TRANSIT,
    OrderStatus.OUT_FOR_DELIVERY,
    OrderStatus.DELIVERED,
]


class ShopifyOrders:
    """``OrderSystem`` for one Shopify store, authenticated with an Admin API access token.

    ``shop_domain`` is the store's handle (``my-shop``), its ``my-shop.myshopify.com`` domain, or
    a full base URL (used as given: a proxy, or a local replay server in tests).
    ``name_prefix`` is the store's order-name prefix (Settings > General > Order ID format);
    customers may type the number with or without it. ``timeout`` bounds the whole call,
    retries included. A ``session`` passed in is left open by ``close()``.
    """

    def __init__(
        self,
        shop_domain: str,
        access_token: str,
        api_version: str = "2024-07",
        timeout: float = 2.5,
        session: aiohttp.ClientSession | None = None,
        *,
        name_prefix: str = "#",
        attempts: int = 2,
        backoff: float = 0.2,
        cache_ttl: float = CACHE_TTL,
    ) -> None:
        if not _API_VERSION.fullmatch(api_version):
            raise ValueError(f"not a Shopify API version: {api_version!r}")
        self.name_prefix = name_prefix
        self.http = JsonHttpClient(
            f"{_shop_url(shop_domain)}/admin/api/{api_version}",
            system=SYSTEM,
            headers={"X-Shopify-Access-Token": access_token},
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            rate_limit=RateLimiter(CALLS_PER_SECOND, BURST),
            session=session,
        )
        self.cache = TtlCache(cache_ttl)

    def order_name(self, number: str) -> str | None:
        """The store's spelling of a customer-typed number (``1001`` -> ``#1001``), if valid."""
        text = number.strip()
        prefix = self.name_prefix.strip()
        bare_prefix = prefix.lstrip("#")
        text = text.lstrip("#").strip()
        if bare_prefix and text.upper().startswith(bare_prefix.upper()):
            text = text[len(bare_prefix) :].strip()
        if not _NAME_CORE.fullmatch(text):
            return None
        return f"{prefix}{text}"

    async def find_verified(self, lookup: OrderLookup) -> Order:
        name = self.order_name(lookup.number)
        if name is None:
            raise OrderNotFound(lookup.number)
        key = _cache_key(name, lookup)
        cached = self.cache.get(key)
        if isinstance(cached, Order):
            return cached
        answer = await self.http.call(
            "POST",
            "/graphql.json",
            {"query": ORDER_QUERY, "variables": {"query": f"name:{name}"}},
        )
        nodes = _order_nodes(answer)
        for node in nodes:
            # The search may match loosely ([M]); only the exact name counts.
            if str(node.get("name") or "").upper() != name.upper():
                continue
            order = _order(node, lookup)
            if lookup.matches(order):
                self.cache.put(key, order)
                return order
        raise OrderNotFound(lookup.number)

    async def list_returns(self, lookup: OrderLookup) -> tuple[ReturnRequest, ...]:
        node, order = await self._verified_node(lookup)
        return _returns(node, order)

    async def create_return(
        self, lookup: OrderLookup, lines: Sequence[ReturnLine], reason: str, note: str | None
    ) -> ReturnRequest:
        """``returnRequest``: a return in REQUESTED state that the merchant approves."""
        node, order = await self._verified_node(lookup)
        available = _fulfillment_lines(node)
        items = []
        for line in lines:
            ids = available.get(line.sku) or []
            if not ids:
                raise ChangeRefused("nothing_to_return", f"{line.sku} was not fulfilled")
            customer_note = note or ("size" if reason == "wrong_size" else None)
            items.append(
                {
                    "fulfillmentLineItemId": ids[0],
                    "quantity": line.quantity,
                    "returnReason": RETURN_REASONS.get(reason, "OTHER"),
                    **(
                        {"customerNote": customer_note[:MAX_CUSTOMER_NOTE]} if customer_note else {}
                    ),
                }
            )
        variables = {"input": {"orderId": node["id"], "returnLineItems": items}}
        data = await self._mutate(RETURN_REQUEST, variables, "returnRequest")
        if data.get("userErrors"):
            raise ChangeRefused("nothing_to_return", _user_errors(data["userErrors"]))
        created = data.get("return") or {}
        return ReturnRequest(
            reference=str(created.get("name") or created.get("id") or ""),
            order_number=order.number,
            status=_RETURN_STATUS.get(str(created.get("status")), ReturnStatus.REQUESTED),
            created_at=datetime.now(timezone.utc),
            items=tuple(lines),
            reason=reason,
            note=note,
            currency=order.currency,
        )

    async def cancel_order(self, lookup: OrderLookup) -> Order:
        """``orderCancel`` with refund and restock. Shopify cancels in a background job; the
        order is reported cancelled once the job is accepted."""
        node, order = await self._verified_node(lookup)
        data = await self._mutate(
            ORDER_CANCEL,
            {"orderId": node["id"], "staffNote": "Cancelled by the customer via Borderless"},
            "orderCancel",
        )
        errors = data.get("orderCancelUserErrors") or []
        if errors:
            text = _user_errors(errors).lower()
            code = (
                "already_cancelled"
                if "cancel" in text and "already" in text
                else "already_fulfilled"
            )
            raise ChangeRefused(code, text)
        self.cache.clear()
        return dataclasses.replace(order, status=OrderStatus.CANCELLED)

    async def change_shipping_address(self, lookup: OrderLookup, address: str) -> Order:
        """``orderUpdate`` with a new ``shippingAddress``. Shopify's address is structured; the
        customer's free text goes into ``address1``/``address2`` as given, the country is
        kept, and the team tidies the fields (the staff note says so)."""
        node, order = await self._verified_node(lookup)
        text = " ".join(address.split())
        shipping = {
            "address1": text[:MAX_ADDRESS_LINE],
            "address2": text[MAX_ADDRESS_LINE : 2 * MAX_ADDRESS_LINE],
            **({"countryCode": order.country} if order.country else {}),
        }
        variables = {
            "input": {
                "id": node["id"],
                "shippingAddress": shipping,
                "note": f"Delivery address changed by the customer via Borderless: {address}",
            }
        }
        data = await self._mutate(ORDER_UPDATE_ADDRESS, variables, "orderUpdate")
        if data.get("userErrors"):
            raise ChangeRefused("already_fulfilled", _user_errors(data["userErrors"]))
        self.cache.clear()
        return dataclasses.replace(order, shipping_address=address)

    async def _verified_node(self, lookup: OrderLookup) -> tuple[dict[str, Any], Order]:
        """The order node with ids, verified like ``find_verified``, never from the cache."""
        name = self.order_name(lookup.number)
        if name is None:
            raise OrderNotFound(lookup.number)
        answer = await self.http.call(
            "POST", "/graphql.json", {"query": CHANGE_QUERY, "variables": {"query": f"name:{name}"}}
        )
        for node in _order_nodes(answer):
            if str(node.get("name") or "").upper() != name.upper():
                continue
            order = _order(node, lookup)
            if lookup.matches(order) and node.get("id"):
                return node, order
        raise OrderNotFound(lookup.number)

    async def _mutate(self, query: str, variables: dict[str, Any], field: str) -> dict[str, Any]:
        """One mutation, sent once (a retry could cancel or return twice)."""
        answer = await self.http.call(
            "POST", "/graphql.json", {"query": query, "variables": variables}, attempts=1
        )
        body = _graphql_data(answer)
        data = body.get(field)
        if not isinstance(data, dict):
            raise BackendUnavailable(f"malformed answer from Shopify: no {field}", system=SYSTEM)
        return data

    async def close(self) -> None:
        await self.http.close()


def _graphql_data(answer: Answer) -> dict[str, Any]:
    """``data`` of a GraphQL answer; errors raised like the order query's."""
    body = answer.body
    if answer.status in (401, 403):
        raise BackendRejected(
            f"Shopify rejected the access token: {_error_text(body)}",
            system=SYSTEM,
            status=answer.status,
        )
    if answer.status != 200 or not isinstance(body, dict):
        raise BackendRejected(
            f"Shopify refused the request (HTTP {answer.status}): {_error_text(body)}",
            system=SYSTEM,
            status=answer.status,
        )
    if body.get("errors"):
        codes = _error_codes(body["errors"])
        text = _error_text(body)
        if "THROTTLED" in codes:
            raise RateLimited(f"Shopify throttled the mutation: {text}", system=SYSTEM)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise BackendUnavailable(f"Shopify failed: {text}", system=SYSTEM)
        raise BackendRejected(f"Shopify refused the mutation: {text}", system=SYSTEM)
    data = body.get("data")
    if not isinstance(data, dict):
        raise BackendUnavailable("malformed answer from Shopify: no data", system=SYSTEM)
    return data


def _fulfillment_lines(node: dict[str, Any]) -> dict[str, list[str]]:
    """SKU -> ids of the fulfilment line items that carried it (live parcels only)."""
    found: dict[str, list[str]] = {}
    for fulfillment in _live_fulfillments(node):
        for item in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or ():
            sku = str(((item or {}).get("lineItem") or {}).get("sku") or "")
            if sku and item.get("id"):
                found.setdefault(sku, []).append(str(item["id"]))
    return found


def _returns(node: dict[str, Any], order: Order) -> tuple[ReturnRequest, ...]:
    """Shopify returns, then refunds: a closed return with a refund reads as refunded; a refund
    without a return (e.g. a cancellation) is listed on its own."""
    refunds = [r for r in node.get("refunds") or () if isinstance(r, dict)]
    result: list[ReturnRequest] = []
    try:
        for item in (node.get("returns") or {}).get("nodes") or ():
            status = _RETURN_STATUS.get(str(item.get("status")), ReturnStatus.REQUESTED)
            lines = tuple(
                ReturnLine(
                    sku=str(li["fulfillmentLineItem"]["lineItem"].get("sku") or ""),
                    title=str(li["fulfillmentLineItem"]["lineItem"].get("title") or ""),
                    quantity=int(li.get("quantity") or 1),
                )
                for li in (item.get("returnLineItems") or {}).get("nodes") or ()
                if isinstance(li, dict) and li.get("fulfillmentLineItem")
            )
            refund = refunds.pop(0) if status is ReturnStatus.RECEIVED and refunds else None
            result.append(_with_refund(
                ReturnRequest(str(item.get("name") or item.get("id")), order.number, status,
                              order.placed_at, lines, currency=order.currency),
                refund,
            ))  # fmt: skip
        for refund in refunds:
            base = ReturnRequest(
                f"refund {str(refund.get('id') or '').rsplit('/', 1)[-1]}",
                order.number, ReturnStatus.REFUNDED, order.placed_at, currency=order.currency,
            )  # fmt: skip
            result.append(_with_refund(base, refund))
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise BackendUnavailable(f"malformed returns from Shopify: {exc!r}", system=SYSTEM) from exc
    return tuple(result)


def _with_refund(request: ReturnRequest, refund: dict[str, Any] | None) -> ReturnRequest:
    if refund is None:
        return request
    money = (refund.get("totalRefundedSet") or {}).get("shopMoney") or {}
    return dataclasses.replace(
        request,
        status=ReturnStatus.REFUNDED,
        refund_amount=_decimal(money["amount"]) if money.get("amount") is not None else None,
        currency=str(money.get("currencyCode") or request.currency),
        refunded_at=_instant(refund.get("createdAt")),
    )


def _user_errors(errors: Any) -> str:
    if not isinstance(errors, list):
        return "refused"
    return "; ".join(str(e.get("message")) for e in errors[:3] if isinstance(e, dict))


def order_status(node: dict[str, Any]) -> OrderStatus:
    """Where a Shopify order stands for the customer. The rules, first match wins:

    1. ``cancelledAt`` set -> CANCELLED.
    2. Fully refunded (``REFUNDED``) or all items restocked (``RESTOCKED``): RETURNED if a parcel
       ever left (a live fulfilment exists), else CANCELLED (money back, nothing sent). Returns
       themselves are not queried: they need the extra ``read_returns`` scope, and a missing
       scope makes Shopify deny the whole query.
    3. Nothing has shipped (no live fulfilment, or UNFULFILLED / IN_PROGRESS / ON_HOLD / ...):
       UNPAID if the money is PENDING, EXPIRED or VOIDED, else PROCESSING. (FULFILLED with no
       fulfilment we can see reads as SHIPPED.)
    4. Otherwise each live fulfilment is a parcel (``displayStatus``: IN_TRANSIT,
       OUT_FOR_DELIVERY, DELIVERED / PICKED_UP, ATTEMPTED_DELIVERY / FAILURE / NOT_DELIVERED ->
       EXCEPTION, anything else -> SHIPPED). Any EXCEPTION wins, since the customer may have to
       act; else the order is as far as its slowest parcel, and a PARTIALLY_FULFILLED order is
       never DELIVERED (items are still to come), only SHIPPED.
    """
    if node.get("cancelledAt"):
        return OrderStatus.CANCELLED
    financial = str(node.get("displayFinancialStatus") or "").upper()
    fulfillment = str(node.get("displayFulfillmentStatus") or "").upper()
    parcels = _live_fulfillments(node)
    if financial == "REFUNDED" or fulfillment == "RESTOCKED":
        return OrderStatus.RETURNED if parcels else OrderStatus.CANCELLED
    if fulfillment not in {"FULFILLED", "PARTIALLY_FULFILLED"} or not parcels:
        if fulfillment == "FULFILLED":  # fulfilled outside any fulfilment record we can see
            return OrderStatus.SHIPPED
        return OrderStatus.UNPAID if financial in _UNPAID else OrderStatus.PROCESSING
    statuses = [_parcel_status(f) for f in parcels]
    if OrderStatus.EXCEPTION in statuses:
        return OrderStatus.EXCEPTION
    slowest = min(statuses, key=_PROGRESS.index)
    if slowest is OrderStatus.DELIVERED and fulfillment == "PARTIALLY_FULFILLED":
        return OrderStatus.SHIPPED
    return slowest


def _shop_url(shop_domain: str) -> str:
    """``https://<handle>.myshopify.com`` from what a merchant is likely to paste."""
    text = shop_domain.strip().rstrip("/")
    if "://" in text:
        return text
    handle = text.lower().removesuffix(".myshopify.com")
    if not _SHOP_HANDLE.fullmatch(handle):
        raise ValueError(f"not a Shopify shop domain: {shop_domain!r}")
    return f"https://{handle}.myshopify.com"


def _cache_key(name: str, lookup: OrderLookup) -> tuple[str, str, str]:
    return (
        name.upper(),
        normalize_email(lookup.email) if lookup.email else "",
        normalize_phone(lookup.phone) if lookup.phone else "",
    )


def _order_nodes(answer: Answer) -> list[dict[str, Any]]:
    """The order nodes of a GraphQL answer, or the error it stands for."""
    body = answer.body
    if answer.status in (401, 403):
        raise BackendRejected(
            f"Shopify rejected the access token: {_error_text(body)}",
            system=SYSTEM,
            status=answer.status,
        )
    if answer.status != 200:
        # 404: wrong shop domain or API version; 402/423: shop frozen or locked. All need a
        # person to fix the configuration, not a retry.
        raise BackendRejected(
            f"Shopify refused the request (HTTP {answer.status}): {_error_text(body)}",
            system=SYSTEM,
            status=answer.status,
        )
    if not isinstance(body, dict):
        raise BackendUnavailable("Shopify answered without a JSON object", system=SYSTEM)
    errors = body.get("errors")
    if errors:
        # GraphQL reports throttling and permission problems in a 200; partial data is not
        # trusted, since a missing field could change what we tell the customer.
        codes = _error_codes(errors)
        text = _error_text(body)
        if "THROTTLED" in codes:
            raise RateLimited(f"Shopify throttled the query: {text}", system=SYSTEM)
        if "INTERNAL_SERVER_ERROR" in codes:
            raise BackendUnavailable(f"Shopify failed: {text}", system=SYSTEM)
        raise BackendRejected(f"Shopify refused the query: {text}", system=SYSTEM)
    try:
        nodes = body["data"]["orders"]["nodes"]
    except (KeyError, TypeError) as exc:
        raise BackendUnavailable(f"malformed answer from Shopify: {exc!r}", system=SYSTEM) from exc
    if not isinstance(nodes, list):
        raise BackendUnavailable("malformed answer from Shopify: nodes", system=SYSTEM)
    return [node for node in nodes if isinstance(node, dict)]


def _order(node: dict[str, Any], lookup: OrderLookup) -> Order:
    try:
        return _parse_order(node, lookup)
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise BackendUnavailable(f"malformed order from Shopify: {exc!r}", system=SYSTEM) from exc


def _parse_order(node: dict[str, Any], lookup: OrderLookup) -> Order:
    total = node["totalPriceSet"]
    # The customer paid in the presentment currency (their own, in a cross-border shop);
    # shopMoney is the shop's currency. Quote what the customer saw.
    use_presentment = bool(total.get("presentmentMoney"))
    money = _money(total, use_presentment)
    status = order_status(node)
    parcels = _live_fulfillments(node)
    shipping = node.get("shippingAddress") or {}
    billing = node.get("billingAddress") or {}
    delivered = [_instant(f.get("deliveredAt")) for f in parcels]
    expected = [
        _instant(f.get("estimatedDeliveryAt"))
        for f in parcels
        if _parcel_status(f) is not OrderStatus.DELIVERED
    ]
    return Order(
        number=str(node["name"]),
        email=str(node.get("email") or ""),
        phone=_best_phone(lookup, node.get("phone"), shipping.get("phone"), billing.get("phone")),
        country=str(shipping.get("countryCodeV2") or billing.get("countryCodeV2") or ""),
        status=status,
        currency=str(money["currencyCode"]),
        total=_decimal(money["amount"]),
        placed_at=_required_instant(node["createdAt"]),
        shipping_method=str((node.get("shippingLine") or {}).get("title") or ""),
        items=tuple(
            LineItem(
                sku=str(item.get("sku") or ""),
                title=str(item.get("title") or ""),
                quantity=int(item["quantity"]),
                unit_price=_decimal(
                    _money(item["originalUnitPriceSet"], use_presentment)["amount"]
                ),
            )
            for item in (node.get("lineItems") or {}).get("nodes") or ()
        ),
        shipments=_shipments(parcels),
        delivered_at=(
            max(d for d in delivered if d)
            if status is OrderStatus.DELIVERED and any(delivered)
            else None
        ),
        estimated_delivery=(
            max(d for d in expected if d).date()
            if status is not OrderStatus.DELIVERED and any(expected)
            else None
        ),
    )


def _live_fulfillments(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Fulfilments that are, or were, a real parcel (not cancelled, not a voided label)."""
    return [
        f
        for f in node.get("fulfillments") or ()
        if isinstance(f, dict)
        and str(f.get("status") or "").upper() not in _DEAD_FULFILLMENTS
        and str(f.get("displayStatus") or "").upper() not in _DEAD_DISPLAY
    ]


def _parcel_status(fulfillment: dict[str, Any]) -> OrderStatus:
    if fulfillment.get("deliveredAt"):
        return OrderStatus.DELIVERED
    display = str(fulfillment.get("displayStatus") or "").upper()
    return _PARCEL_STATUS.get(display, OrderStatus.SHIPPED)


def _shipments(parcels: list[dict[str, Any]]) -> tuple[Shipment, ...]:
    """One ``Shipment`` per tracking number; a fulfilment normally carries exactly one [V]."""
    shipments: list[Shipment] = []
    seen: set[str] = set()
    for fulfillment in parcels:
        for info in fulfillment.get("trackingInfo") or ():
            number = str((info or {}).get("number") or "").strip()
            if not number or number in seen:
                continue
            seen.add(number)
            shipments.append(
                Shipment(
                    carrier=str(info.get("company") or ""),
                    tracking_number=number,
                    tracking_url=info.get("url") or None,
                )
            )
    return tuple(shipments)


def _best_phone(lookup: OrderLookup, *candidates: Any) -> str | None:
    """The order's phone that proves the lookup, else its first phone.

    Shopify keeps a phone on the order and on each address; customers give whichever they
    remember, and each is as much proof of ownership as the other.
    """
    phones = [str(c) for c in candidates if c]
    if lookup.phone:
        wanted = normalize_phone(lookup.phone)
        for phone in phones:
            if wanted and normalize_phone(phone) == wanted:
                return phone
    return phones[0] if phones else None


def _money(money_bag: dict[str, Any], presentment: bool) -> dict[str, Any]:
    chosen = money_bag.get("presentmentMoney") if presentment else None
    result = chosen or money_bag["shopMoney"]
    if not isinstance(result, dict):
        raise TypeError(f"not a money object: {result!r}")
    return result


def _decimal(value: Any) -> Decimal:
    """Shopify's ``Decimal`` scalar is a JSON string; never go through a binary float."""
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def _instant(value: Any) -> datetime | None:
    return _required_instant(value) if value else None


def _required_instant(value: Any) -> datetime:
    text = str(value)
    if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not take "Z"
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _error_codes(errors: Any) -> set[str]:
    if not isinstance(errors, list):
        return set()
    return {
        str(error["extensions"].get("code") or "").upper()
        for error in errors
        if isinstance(error, dict) and isinstance(error.get("extensions"), dict)
    }


def _error_text(body: Any) -> str:
    """Shopify's own words, for the log: a string (REST-style auth errors) or GraphQL errors."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(
            str(e.get("message")) if isinstance(e, dict) else str(e) for e in errors[:3]
        )
    return "no error detail"
