"""The reference shop's HTTP API: a small Sanic app over the SQL schema in ``schema.py``.

It is what the assistant talks to out of the box (through ``borderless.commerce.reference``) and
what the tests run for real. Two rules shape it:

* an order is only disclosed to a caller who quotes its number *and* its email or phone, and an
  unknown number and a wrong contact give byte-identical 404s, so the API cannot be used to find
  out which order numbers exist;
* database calls are blocking (SQLAlchemy Core, sync drivers), so every one runs on a worker
  thread via ``asyncio.to_thread`` and the event loop never waits on disk or network.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge
from sanic.response import HTTPResponse
from sanic.response import json as sanic_json

from borderless.commerce.errors import ChangeRefused, OrderNotFound, TrackingNotFound
from borderless.commerce.models import OrderLookup, as_dict
from borderless.store.repository import ShopRepository
from borderless.store.schema import create_schema, make_engine
from borderless.store.seed import seed

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_FIELD_LIMITS = {"number": 64, "email": 320, "phone": 40}
MAX_ADDRESS_CHARS = 500
MAX_NOTE_CHARS = 1000
MAX_RETURN_LINES = 50
RETURN_REASONS = frozenset(
    {"wrong_size", "damaged", "not_as_described", "changed_mind", "wrong_item", "other"}
)
_app_ids = itertools.count(1)


def create_app(
    database_url: str, api_token: str, seed_file: str | None = None, *, reset: bool = False
) -> Sanic:
    """A new shop app. Nothing touches the database until the server starts.

    Each call gets its own app name, because Sanic 21.12 keeps a process-wide registry of apps
    and refuses a second app under a name it has seen.
    """
    if not api_token:
        raise ValueError("the shop needs a non-empty API token; an empty one would match anyone")
    app = Sanic(f"borderless-shop-{next(_app_ids)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    app.config.FALLBACK_ERROR_FORMAT = "json"
    engine = make_engine(database_url)
    app.ctx.engine = engine
    app.ctx.repository = ShopRepository(engine)
    expected = api_token.encode()

    @app.before_server_start
    async def prepare_database(app: Sanic, _loop: Any) -> None:
        if seed_file:
            result = await asyncio.to_thread(seed, engine, seed_file, reset=reset)
            if result.skipped:
                logger.info("database already holds orders; not seeding %s", seed_file)
            else:
                logger.info("seeded %d orders from %s", result.orders, seed_file)
        else:
            await asyncio.to_thread(create_schema, engine)

    @app.after_server_stop
    async def release_database(app: Sanic, _loop: Any) -> None:
        await asyncio.to_thread(engine.dispose)

    @app.on_request
    async def authenticate(request: Request) -> HTTPResponse | None:
        if not request.path.startswith("/api/"):
            return None
        if not hmac.compare_digest(
            _bearer_token(request.headers.get("authorization", "")), expected
        ):
            return _json({"error": "unauthorized"}, 401)
        return None

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        try:
            count = await asyncio.to_thread(app.ctx.repository.count_orders)
        except Exception:
            logger.exception("health check could not reach the database")
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok", "orders": count})

    @app.post("/api/orders/lookup")
    async def lookup_order(request: Request) -> HTTPResponse:
        lookup = _parse_lookup(request.body)
        if isinstance(lookup, str):
            return _json({"error": "invalid_request", "detail": lookup}, 400)
        try:
            order = await asyncio.to_thread(app.ctx.repository.find_verified, lookup)
        except OrderNotFound:
            return _json({"error": "order_not_found"}, 404)
        return _json({"order": as_dict(order)})

    # The changes a customer may make. Each body carries the same number + email/phone as a
    # lookup and is verified the same way; a refused change is a 409 with a machine-readable
    # reason the assistant turns into an explanation.
    @app.post("/api/returns/lookup")
    async def list_returns(request: Request) -> HTTPResponse:
        parsed = _parse_change(request.body)
        if isinstance(parsed, str):
            return _json({"error": "invalid_request", "detail": parsed}, 400)
        lookup, _ = parsed
        return await _answer(lambda: {"returns": as_dict(app.ctx.repository.list_returns(lookup))})

    @app.post("/api/returns")
    async def create_return(request: Request) -> HTTPResponse:
        parsed = _parse_change(request.body)
        if isinstance(parsed, str):
            return _json({"error": "invalid_request", "detail": parsed}, 400)
        lookup, data = parsed
        lines = _parse_lines(data.get("items"))
        if isinstance(lines, str):
            return _json({"error": "invalid_request", "detail": lines}, 400)
        reason = data.get("reason") or "other"
        if reason not in RETURN_REASONS:
            return _json({"error": "invalid_request", "detail": "unknown reason"}, 400)
        note = data.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE_CHARS):
            detail = f"note must be a string of at most {MAX_NOTE_CHARS} characters"
            return _json({"error": "invalid_request", "detail": detail}, 400)
        now = datetime.now(timezone.utc)
        return await _answer(
            lambda: {
                "return": as_dict(
                    app.ctx.repository.create_return(lookup, lines, reason, note or None, now)
                )
            },
            status=201,
        )

    @app.post("/api/orders/cancel")
    async def cancel_order(request: Request) -> HTTPResponse:
        parsed = _parse_change(request.body)
        if isinstance(parsed, str):
            return _json({"error": "invalid_request", "detail": parsed}, 400)
        lookup, _ = parsed
        return await _answer(lambda: {"order": as_dict(app.ctx.repository.cancel(lookup))})

    @app.post("/api/orders/shipping-address")
    async def change_address(request: Request) -> HTTPResponse:
        parsed = _parse_change(request.body)
        if isinstance(parsed, str):
            return _json({"error": "invalid_request", "detail": parsed}, 400)
        lookup, data = parsed
        address = data.get("address")
        if not isinstance(address, str) or not address.strip():
            return _json({"error": "invalid_request", "detail": "address is required"}, 400)
        if len(address) > MAX_ADDRESS_CHARS:
            detail = f"address is longer than {MAX_ADDRESS_CHARS} characters"
            return _json({"error": "invalid_request", "detail": detail}, 400)
        now = datetime.now(timezone.utc)
        return await _answer(
            lambda: {
                "order": as_dict(app.ctx.repository.change_address(lookup, address.strip(), now))
            }
        )

    @app.get("/api/tracking/<carrier>/<tracking_number>")
    async def track(request: Request, carrier: str, tracking_number: str) -> HTTPResponse:
        # Sanic 21.12 hands path parameters over still percent-encoded ("China%20Post").
        carrier, tracking_number = unquote(carrier), unquote(tracking_number)
        try:
            tracking = await asyncio.to_thread(
                app.ctx.repository.find_tracking, carrier, tracking_number
            )
        except TrackingNotFound:
            return _json({"error": "tracking_not_found"}, 404)
        return _json({"tracking": as_dict(tracking)})

    @app.exception(PayloadTooLarge)
    async def too_large(request: Request, exc: Exception) -> HTTPResponse:
        return _json({"error": "payload_too_large"}, 413)

    @app.exception(NotFound)
    async def not_found(request: Request, exc: Exception) -> HTTPResponse:
        return _json({"error": "not_found"}, 404)

    @app.exception(MethodNotSupported)
    async def wrong_method(request: Request, exc: Exception) -> HTTPResponse:
        return _json({"error": "method_not_allowed"}, 405)

    @app.exception(Exception)
    async def internal_error(request: Request, exc: Exception) -> HTTPResponse:
        logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        return _json({"error": "internal_error"}, 500)

    return app


def _bearer_token(header: str) -> bytes:
    scheme, _, token = header.strip().partition(" ")
    return token.strip().encode() if scheme.lower() == "bearer" else b""


async def _answer(work: Any, status: int = 200) -> HTTPResponse:
    """Run a verified repository call on a worker thread; map its refusals to HTTP."""
    try:
        body = await asyncio.to_thread(work)
    except OrderNotFound:
        return _json({"error": "order_not_found"}, 404)
    except ChangeRefused as refused:
        return _json({"error": refused.code}, 409)
    return _json(body, status)


def _parse_change(body: bytes) -> tuple[OrderLookup, dict[str, Any]] | str:
    data = _json_object(body)
    if isinstance(data, str):
        return data
    lookup = _lookup_from(data)
    return lookup if isinstance(lookup, str) else (lookup, data)


def _parse_lines(value: Any) -> list[tuple[str, int]] | str:
    if not isinstance(value, list) or not value or len(value) > MAX_RETURN_LINES:
        return f"items must be a list of 1 to {MAX_RETURN_LINES} {{sku, quantity}} objects"
    lines = []
    for item in value:
        if not isinstance(item, dict):
            return "each item must be an object"
        sku, quantity = item.get("sku"), item.get("quantity", 1)
        if not isinstance(sku, str) or not sku.strip() or len(sku) > 64:
            return "each item needs a sku"
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity < 1000:
            return "quantity must be a positive integer"
        lines.append((sku.strip(), quantity))
    return lines


def _json_object(body: bytes) -> dict[str, Any] | str:
    try:
        data = json.loads(body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "body must be valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
    return data


def _parse_lookup(body: bytes) -> OrderLookup | str:
    """The lookup in a request body, or the reason it is not one (for a 400's ``detail``)."""
    data = _json_object(body)
    if isinstance(data, str):
        return data
    return _lookup_from(data)


def _lookup_from(data: dict[str, Any]) -> OrderLookup | str:
    fields: dict[str, str | None] = {}
    for name, limit in _FIELD_LIMITS.items():
        value = data.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} must be a string"
        value = (value or "").strip()
        if len(value) > limit:
            return f"{name} is longer than {limit} characters"
        fields[name] = value or None
    number = fields["number"]
    if number is None:
        return "number is required"
    if not (fields["email"] or fields["phone"]):
        return "email or phone is required"
    return OrderLookup(number=number, email=fields["email"], phone=fields["phone"])


def _json(body: Any, status: int = 200) -> HTTPResponse:
    # stdlib json: Sanic would pick ujson when installed, which escapes every "/" in URLs.
    return sanic_json(body, status=status, dumps=_dumps)


def _dumps(body: Any) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
