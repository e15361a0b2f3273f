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
from typing import Any
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge
from sanic.response import HTTPResponse
from sanic.response import json as sanic_json

from borderless.commerce.errors import OrderNotFound, TrackingNotFound
from borderless.commerce.models import OrderLookup, as_dict
from borderless.store.repository import ShopRepository
from borderless.store.schema import create_schema, make_engine
from borderless.store.seed import seed

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
_FIELD_LIMITS = {"number": 64, "email": 320, "phone": 40}
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


def _parse_lookup(body: bytes) -> OrderLookup | str:
    """The lookup in a request body, or the reason it is not one (for a 400's ``detail``)."""
    try:
        data = json.loads(body or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "body must be valid JSON"
    if not isinstance(data, dict):
        return "body must be a JSON object"
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
