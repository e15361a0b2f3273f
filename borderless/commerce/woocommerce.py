"""``OrderSystem`` over the WooCommerce REST API v3 (``/wp-json/wc/v3``).

Why the lookup is shaped the way it is:

* Woo has no email filter, so the contact is never sent: we fetch by number and check
  ``billing.email`` or a phone in our own code with ``OrderLookup.matches``. A wrong contact
  raises the same ``OrderNotFound`` as an unknown number, so the assistant cannot be used to
  enumerate orders (and no customer email ends up in a shop's access log).
* ``number`` can differ from ``id`` when a sequential-number plugin is installed. A numeric
  number is first fetched as ``GET /orders/<id>`` (exact and cheap, right in a plain shop);
  when that is not it, ``GET /orders?search=<number>`` runs and only an order whose ``number``
  equals the customer's counts: search also matches addresses, phones and item names.
* Auth is HTTP Basic with the consumer key and secret, which Woo accepts over HTTPS only;
  plain-HTTP shops would need OAuth 1.0a, which this adapter does not speak.
* Woo core has no rate limit (the host sets one [M]); every call boots WordPress, so a small
  local bucket (5 calls/s, bursts of 10) keeps a busy chat from hurting a small shop.

Changes (returns, cancellation, address), and what they map to, since Woo core has refunds
but no returns:

* a **return request** becomes a private order note, ``POST /orders/<id>/notes``, tagged
  ``[Borderless return]`` with the lines, reason and the customer's words; the team approves
  it and issues the refund in Woo. Its reference is ``WC-<number>-<note id>``;
* **refund status** lists those notes (REQUESTED) and the order's refunds,
  ``GET /orders/<id>/refunds`` (REFUNDED, with amount and date);
* **cancel** is ``PUT /orders/<id> {"status": "cancelled"}`` (no automatic refund: Woo refunds
  are a separate call that the team makes, or the payment gateway on cancellation);
* **new address**: Woo's shipping address is structured, so the customer's text goes into
  ``shipping.address_1``/``address_2`` as given, city and postcode are emptied (the text holds
  them), the country is kept, and a note records the change.

See ``/work/shared/reference/external-apis.md`` section 1b; [M] marks what is not verified there.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    ChangeRefused,
    OrderNotFound,
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

# API facts beyond the reference sheet (external-apis.md 1b, where id, number, status values,
# currency, date_created(_gmt), billing, shipping, line_items, shipping_lines, meta_data are [V]):
# - [S] (public client code, not the docs): GET /orders/<id> of an unknown id answers 404
#   {"code": "woocommerce_rest_shop_order_invalid_id"}; a bad key answers 401
#   woocommerce_rest_cannot_view / woocommerce_rest_authentication_error.
# - [M]: `search` also matching the order id and, with sequential-number plugins, their number;
#   line item `price` being a JSON number (totals are strings); `shipping.phone`;
#   the custom status "checkout-draft"; everything about the Shipment Tracking plugin.
SYSTEM = "woocommerce"
API_PATH = "/wp-json/wc/v3"
CACHE_TTL = 60.0
CALLS_PER_SECOND = 5.0
BURST = 10
SEARCH_PAGE_SIZE = 10  # search matches loosely and sorts newest first: leave room
# The Shipment Tracking plugin's meta key and item fields [M]: Woo may hide "_"-prefixed
# (protected) meta from REST in some versions, and the plugin also has its own endpoint.
TRACKING_META_KEY = "_wc_shipment_tracking_items"

# Order numbers as customers type them, after dropping a leading "#": plugins allow prefixes
# like "WC-1001". Anything else is refused before it reaches the shop's search.
_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]{0,39}")
_STATUS = {
    "pending": OrderStatus.UNPAID,  # awaiting payment
    "on-hold": OrderStatus.UNPAID,  # awaiting payment confirmation (bank transfer, cheque)
    "failed": OrderStatus.UNPAID,  # payment failed; the customer can pay again
    "processing": OrderStatus.PROCESSING,
    "completed": OrderStatus.SHIPPED,  # Woo core does not know about delivery
    "cancelled": OrderStatus.CANCELLED,
    "refunded": OrderStatus.RETURNED,  # refined in order_status()
}
# Not an order a customer can ask about: deleted, or an abandoned block-checkout draft.
_HIDDEN = {"trash", "checkout-draft", "auto-draft"}


class WooCommerceOrders:
    """``OrderSystem`` for one WooCommerce shop, with a REST API key pair (read access).

    ``base_url`` is the site's root (``https://shop.example``); ``timeout`` bounds the whole
    lookup, both requests and retries included. ``extra_statuses`` maps custom order statuses
    from plugins (``shipped``, ``delivered``, ...) to ours; an unknown status reads as
    PROCESSING, or SHIPPED once the order has tracking. A ``session`` passed in is left open.
    """

    def __init__(
        self,
        base_url: str,
        consumer_key: str,
        consumer_secret: str,
        timeout: float = 2.5,
        session: aiohttp.ClientSession | None = None,
        *,
        attempts: int = 2,
        backoff: float = 0.2,
        cache_ttl: float = CACHE_TTL,
        extra_statuses: Mapping[str, OrderStatus] | None = None,
    ) -> None:
        root = base_url.strip().rstrip("/")
        if not root.endswith(API_PATH):
            root += API_PATH
        self.timeout = timeout
        self.http = JsonHttpClient(
            root,
            system=SYSTEM,
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            rate_limit=RateLimiter(CALLS_PER_SECOND, BURST),
            session=session,
            auth=aiohttp.BasicAuth(consumer_key, consumer_secret),
        )
        self.cache = TtlCache(cache_ttl)
        self.statuses = {**_STATUS, **{k.lower(): v for k, v in (extra_statuses or {}).items()}}

    async def find_verified(self, lookup: OrderLookup) -> Order:
        number = canonical_number(lookup.number)
        if number is None:
            raise OrderNotFound(lookup.number)
        key = (
            number.upper(),
            normalize_email(lookup.email) if lookup.email else "",
            normalize_phone(lookup.phone) if lookup.phone else "",
        )
        cached = self.cache.get(key)
        if isinstance(cached, Order):
            return cached
        try:
            # Up to two requests: one budget for both, so the customer never waits twice.
            order = await asyncio.wait_for(self._find(number, lookup), self.timeout)
        except asyncio.TimeoutError:
            raise BackendUnavailable(
                f"{SYSTEM} did not answer within {self.timeout:g}s", system=SYSTEM
            ) from None
        if order is None:
            raise OrderNotFound(lookup.number)
        self.cache.put(key, order)
        return order

    async def _find(self, number: str, lookup: OrderLookup) -> Order | None:
        found = await self._find_raw(number, lookup)
        return found[1] if found else None

    async def _find_raw(
        self, number: str, lookup: OrderLookup
    ) -> tuple[dict[str, Any], Order] | None:
        candidates: list[dict[str, Any]] = []
        if number.isdigit():
            answer = await self.http.call("GET", f"/orders/{number}")
            # Invalid ID: no order has this id, but a plugin may have given it as a number.
            if _code(answer.body) != "woocommerce_rest_shop_order_invalid_id":
                body = _checked(answer)
                if not isinstance(body, dict):
                    raise BackendUnavailable(
                        "WooCommerce answered without a JSON object", system=SYSTEM
                    )
                candidates = [body]
        if not any(_number_of(c) == number.upper() for c in candidates):
            answer = await self.http.call(
                "GET", "/orders", params={"search": number, "per_page": str(SEARCH_PAGE_SIZE)}
            )
            body = _checked(answer)
            if not isinstance(body, list):
                raise BackendUnavailable("WooCommerce search did not return a list", system=SYSTEM)
            candidates = [c for c in body if isinstance(c, dict)]
        for data in candidates:
            if _number_of(data) != number.upper():
                continue
            if str(data.get("status") or "").lower() in _HIDDEN:
                return None
            order = self._order(data, lookup)
            return (data, order) if lookup.matches(order) else None  # numbers are unique
        return None

    def _order(self, data: dict[str, Any], lookup: OrderLookup) -> Order:
        try:
            return _parse_order(data, lookup, self.statuses)
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
            raise BackendUnavailable(
                f"malformed order from WooCommerce: {exc!r}", system=SYSTEM
            ) from exc

    async def list_returns(self, lookup: OrderLookup) -> tuple[ReturnRequest, ...]:
        data, order = await self._verified(lookup)
        notes = _checked(await self.http.call("GET", f"/orders/{data['id']}/notes"))
        refunds = _checked(await self.http.call("GET", f"/orders/{data['id']}/refunds"))
        if not isinstance(notes, list) or not isinstance(refunds, list):
            raise BackendUnavailable("WooCommerce notes/refunds are not lists", system=SYSTEM)
        try:
            requested = [
                ReturnRequest(
                    reference=f"WC-{order.number}-{note['id']}",
                    order_number=order.number,
                    status=ReturnStatus.REQUESTED,
                    created_at=_utc(note.get("date_created_gmt") or note["date_created"]),
                    currency=order.currency,
                )
                for note in notes
                if isinstance(note, dict) and str(note.get("note") or "").startswith(RETURN_TAG)
            ]
            refunded = [
                ReturnRequest(
                    reference=f"WC-{order.number}-R{refund['id']}",
                    order_number=order.number,
                    status=ReturnStatus.REFUNDED,
                    created_at=_utc(refund.get("date_created_gmt") or refund["date_created"]),
                    reason=str(refund.get("reason") or "other")[:40],
                    currency=order.currency,
                    refund_amount=abs(_decimal(refund["amount"])),
                    refunded_at=_utc(refund.get("date_created_gmt") or refund["date_created"]),
                )
                for refund in refunds
                if isinstance(refund, dict)
            ]
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise BackendUnavailable(
                f"malformed notes/refunds from WooCommerce: {exc!r}", system=SYSTEM
            ) from exc
        # A refund settles the request before it; what is left open stays "requested".
        for _ in refunded:
            if requested:
                requested.pop(0)
        return tuple(sorted([*requested, *refunded], key=lambda r: r.created_at))

    async def create_return(
        self, lookup: OrderLookup, lines: Sequence[ReturnLine], reason: str, note: str | None
    ) -> ReturnRequest:
        data, order = await self._verified(lookup)  # the return policy was applied before
        text = "\n".join(
            [
                f"{RETURN_TAG} reason: {reason}",
                *(f"- {line.quantity} x {line.title} ({line.sku})" for line in lines),
                *([f"Customer: {note}"] if note else []),
            ]
        )
        answer = await self.http.call(
            "POST", f"/orders/{data['id']}/notes", {"note": text, "customer_note": False},
            attempts=1,
        )  # fmt: skip
        created = _checked_write(answer)
        return ReturnRequest(
            reference=f"WC-{order.number}-{created.get('id')}",
            order_number=order.number,
            status=ReturnStatus.REQUESTED,
            created_at=datetime.now(timezone.utc),
            items=tuple(lines),
            reason=reason,
            note=note,
            currency=order.currency,
        )

    async def cancel_order(self, lookup: OrderLookup) -> Order:
        data, order = await self._verified(lookup)
        if order.status is OrderStatus.CANCELLED:
            raise ChangeRefused("already_cancelled")
        if not order.can_be_changed:
            raise ChangeRefused("already_fulfilled")
        answer = await self.http.call(
            "PUT", f"/orders/{data['id']}", {"status": "cancelled"}, attempts=1
        )
        self.cache.clear()
        return self._order(_checked_write(answer), lookup)

    async def change_shipping_address(self, lookup: OrderLookup, address: str) -> Order:
        data, order = await self._verified(lookup)
        if not order.can_be_changed:
            raise ChangeRefused("already_fulfilled")
        text = " ".join(address.split())
        country = str((data.get("shipping") or {}).get("country") or "")
        shipping = {
            "address_1": text[:MAX_ADDRESS_LINE],
            "address_2": text[MAX_ADDRESS_LINE : 2 * MAX_ADDRESS_LINE],
            "city": "",
            "state": "",
            "postcode": "",
            "country": country,
        }
        answer = await self.http.call(
            "PUT", f"/orders/{data['id']}", {"shipping": shipping}, attempts=1
        )
        updated = self._order(_checked_write(answer), lookup)
        await self.http.call(
            "POST", f"/orders/{data['id']}/notes",
            {"note": f"Delivery address changed by the customer via Borderless: {address}",
             "customer_note": False},
            attempts=1,
        )  # fmt: skip
        self.cache.clear()
        return dataclasses.replace(updated, shipping_address=address)

    async def _verified(self, lookup: OrderLookup) -> tuple[dict[str, Any], Order]:
        """The raw order (for its id) and the parsed one, verified, never from the cache."""
        number = canonical_number(lookup.number)
        if number is None:
            raise OrderNotFound(lookup.number)
        try:
            found = await asyncio.wait_for(self._find_raw(number, lookup), self.timeout)
        except asyncio.TimeoutError:
            raise BackendUnavailable(
                f"{SYSTEM} did not answer within {self.timeout:g}s", system=SYSTEM
            ) from None
        if found is None:
            raise OrderNotFound(lookup.number)
        return found

    async def close(self) -> None:
        await self.http.close()


RETURN_TAG = "[Borderless return]"
MAX_ADDRESS_LINE = 255


def _checked_write(answer: Answer) -> dict[str, Any]:
    """The body of a 200/201 write; a 400 from Woo (e.g. a status it refuses) is a refusal."""
    if answer.status in (200, 201) and isinstance(answer.body, dict):
        return answer.body
    if answer.status == 400:
        raise ChangeRefused("already_fulfilled", _code(answer.body) or "HTTP 400")
    _checked(answer)
    raise BackendUnavailable("WooCommerce answered a write without a JSON object", system=SYSTEM)


def canonical_number(value: str) -> str | None:
    """The customer's order number as Woo shows it (``#1001`` -> ``1001``), if it can be one."""
    text = value.strip().lstrip("#").strip()
    return text if _NUMBER.fullmatch(text) else None


def order_status(
    data: dict[str, Any], statuses: Mapping[str, OrderStatus] | None = None
) -> OrderStatus:
    """Where a Woo order stands for the customer.

    pending / on-hold / failed -> UNPAID; processing -> PROCESSING, or SHIPPED once a tracking
    number is recorded (the Shipment Tracking plugin does not change the status); completed ->
    SHIPPED; cancelled -> CANCELLED. refunded -> RETURNED only if the goods went out (the order
    was completed once, or has tracking); a refund of an order that never shipped is, for the
    customer, a cancellation -> CANCELLED. Unknown (plugin) statuses -> ``statuses`` or
    PROCESSING / SHIPPED by tracking.
    """
    table = statuses or _STATUS
    status = str(data.get("status") or "").lower()
    shipped = bool(_shipments(data))
    mapped = table.get(status)
    if status == "refunded" and mapped is OrderStatus.RETURNED:
        went_out = shipped or bool(data.get("date_completed_gmt") or data.get("date_completed"))
        return OrderStatus.RETURNED if went_out else OrderStatus.CANCELLED
    if mapped is OrderStatus.PROCESSING or mapped is None:
        return OrderStatus.SHIPPED if shipped else OrderStatus.PROCESSING
    return mapped


def _parse_order(
    data: dict[str, Any], lookup: OrderLookup, statuses: Mapping[str, OrderStatus]
) -> Order:
    billing = data.get("billing") or {}
    shipping = data.get("shipping") or {}
    name = " ".join(
        str(part) for part in (billing.get("first_name"), billing.get("last_name")) if part
    )
    return Order(
        number=str(data["number"]),
        email=str(billing.get("email") or ""),
        phone=_best_phone(lookup, billing.get("phone"), shipping.get("phone")),
        country=str(shipping.get("country") or billing.get("country") or "").upper(),
        status=order_status(data, statuses),
        currency=str(data["currency"]),
        total=_decimal(data["total"]),
        # date_created is the site's local time without an offset; the _gmt twin is UTC.
        placed_at=_utc(data.get("date_created_gmt") or data["date_created"]),
        shipping_method=", ".join(
            str(line.get("method_title") or "")
            for line in data.get("shipping_lines") or ()
            if isinstance(line, dict) and line.get("method_title")
        ),
        items=tuple(
            LineItem(
                sku=str(item.get("sku") or ""),
                title=str(item.get("name") or ""),
                quantity=int(item["quantity"]),
                unit_price=_decimal(item["price"]),
            )
            for item in data.get("line_items") or ()
            if isinstance(item, dict)
        ),
        shipments=_shipments(data),
        customer_name=name or None,
    )


def _shipments(data: dict[str, Any]) -> tuple[Shipment, ...]:
    """Parcels recorded by the Shipment Tracking plugin, if it is installed [M].

    Each item looks like ``{tracking_provider, custom_tracking_provider, tracking_number,
    custom_tracking_link, date_shipped}``; ``tracking_provider`` is empty for a custom carrier.
    """
    shipments: list[Shipment] = []
    for meta in data.get("meta_data") or ():
        if not isinstance(meta, dict) or meta.get("key") != TRACKING_META_KEY:
            continue
        items = meta.get("value")
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            number = str(item.get("tracking_number") or "").strip()
            if not number:
                continue
            carrier = item.get("tracking_provider") or item.get("custom_tracking_provider")
            shipments.append(
                Shipment(
                    carrier=str(carrier or ""),
                    tracking_number=number,
                    tracking_url=str(item.get("custom_tracking_link") or "") or None,
                )
            )
    return tuple(shipments)


def _checked(answer: Answer) -> Any:
    """The body of a 200, or the error a Woo answer stands for."""
    if answer.status == 200:
        return answer.body
    detail = _code(answer.body) or f"HTTP {answer.status}"
    if answer.status in (401, 403):
        # woocommerce_rest_cannot_view (key lacks read access) or
        # woocommerce_rest_authentication_error (unknown key, wrong secret).
        raise BackendRejected(
            f"WooCommerce rejected our API key: {detail}", system=SYSTEM, status=answer.status
        )
    # Includes 404 rest_no_route: a wrong base URL or plain permalinks, not a missing order.
    raise BackendRejected(
        f"WooCommerce refused the request: {detail}", system=SYSTEM, status=answer.status
    )


def _code(body: Any) -> str | None:
    """Woo's (WordPress's) error code: ``{"code": ..., "message": ..., "data": {"status": ..}}``."""
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return str(body["code"])
    return None


def _number_of(data: dict[str, Any]) -> str:
    return str(data.get("number") or "").strip().lstrip("#").upper()


def _best_phone(lookup: OrderLookup, *candidates: Any) -> str | None:
    """The order's phone that proves the lookup, else the billing phone.

    Woo keeps a billing phone and, since 5.6, a shipping phone [M]; a customer may give either.
    """
    phones = [str(c) for c in candidates if c]
    if lookup.phone:
        wanted = normalize_phone(lookup.phone)
        for phone in phones:
            if wanted and normalize_phone(phone) == wanted:
                return phone
    return phones[0] if phones else None


def _decimal(value: Any) -> Decimal:
    """Totals are strings; a line item's ``price`` is a JSON number, so go through ``str``."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"not an amount: {value!r}")
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount


def _utc(value: Any) -> datetime:
    text = str(value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
