"""``LogisticsSystem`` on AfterShip Tracking: one aggregator for the carriers a shop ships with.

Why it is shaped like this:

* AfterShip only tracks numbers it has been told about. A parcel it does not know yet is created
  on the spot (``POST /trackings``) and the customer hears "no tracking yet"
  (``TrackingNotFound``): AfterShip fetches the carrier's data asynchronously, so the very
  first answer never has checkpoints, and the next question a few minutes later will.
* Look-ups go through ``GET /trackings?tracking_numbers=<n>``. From API version 2024-04 on the
  by-slug-and-number routes are gone [S: AfterShip's generated SDKs for 2024-07 and later only
  have ``/trackings/{id}``], and we do not store AfterShip's ids. The list filter is not given
  the slug on purpose: if our carrier-to-slug guess below is wrong, or AfterShip detected
  another slug on creation, a slug filter would miss the tracking and we would create it twice.
* One time budget for the whole ``track()`` (look-up and creation together), a token bucket at
  AfterShip's 10 requests/s and a five-minute cache per number, because the same customer tends
  to ask twice and AfterShip refreshes a tracking far less often than that.

Only exceptions from ``borderless.commerce.errors`` leave this module. Confidence tags
([V]/[S]/[M]) as in ``/work/shared/reference/external-apis.md`` section 1c.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import aiohttp

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    TrackingNotFound,
)
from borderless.commerce.http import Answer, JsonHttpClient, RateLimiter, TtlCache
from borderless.commerce.models import Checkpoint, Tracking, TrackingStatus
from borderless.commerce.tracking_adapter import TrackingAdapter
from borderless.commerce.tracking_status import (
    aftership_status,
    carrier_key,
    compact_number,
    parse_day,
    parse_instant,
)

SYSTEM = "aftership"
DEFAULT_BASE_URL = "https://api.aftership.com"  # + /tracking/<version> [V] quickstart
REQUESTS_PER_SECOND = 10.0  # per organization [V for AfterShip Commerce; assumed for Tracking]
CACHE_SECONDS = 300.0

# Our carrier names (as the shop writes them, compared case- and space-insensitively) to
# AfterShip courier slugs. A carrier missing here is created without a slug, so AfterShip
# detects it from the number. [M] none of these slugs was checked against AfterShip's courier
# list (GET /couriers/all); dhl, ups, usps and fedex also appear in AfterShip's own docs and SDK
# examples [S].
AFTERSHIP_SLUGS: Mapping[str, str] = {
    "dhl": "dhl",  # DHL Express [S]
    "dhl express": "dhl",
    "ups": "ups",  # [S]
    "usps": "usps",  # [S]
    "fedex": "fedex",  # [S]
    "china post": "china-post",  # registered air mail; China EMS is "china-ems" [M]
    "yunexpress": "yunexpress",  # [M]
    "yun express": "yunexpress",
    "4px": "4px",  # [M]
    "cainiao": "cainiao",  # [M]
    # The other carriers of the demo shop (demo/orders.yml). [M]
    "aramex": "aramex",
    "australia post": "australia-post",
    "colissimo": "colissimo",
    "correios": "brazil-correios",
    "japan post": "japan-post",
    "royal mail": "royal-mail",
    "sf express": "sf-express",
    "smsa express": "smsa-express",
}

# AfterShip ``meta.code`` values. [S] the error tables of AfterShip's own SDKs (Go, Node).
_ALREADY_EXISTS = 4003  # created meanwhile (another conversation, the shop's own sync)
_DOES_NOT_EXIST = 4004
# The number or its carrier cannot be tracked at all: for the customer, "no tracking yet".
_UNTRACKABLE = frozenset({4005, 4012, 4017})  # invalid number, bad courier, invalid format


class AfterShipTracking(TrackingAdapter):
    """``LogisticsSystem`` backed by AfterShip Tracking (dated API versions, ``as-api-key``).

    ``timeout`` bounds a whole ``track()``; a 5xx, 429 (``Retry-After`` honoured) or dropped
    connection is retried once if that still fits. ``base_url`` is the host only (the version
    path is added), so tests point it at a local server. Pass ``session`` to share a connection
    pool; a session passed in is left open by ``close()``. No I/O at construction.
    """

    def __init__(
        self,
        api_key: str,
        api_version: str = "2024-07",
        timeout: float = 2.5,
        session: aiohttp.ClientSession | None = None,
        *,
        base_url: str = DEFAULT_BASE_URL,
        backoff: float = 0.2,
        attempts: int = 2,
        cache_ttl: float = CACHE_SECONDS,
    ) -> None:
        self.timeout = timeout
        self.http = JsonHttpClient(
            f"{base_url.rstrip('/')}/tracking/{api_version}",
            system=SYSTEM,
            headers={"as-api-key": api_key},
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            rate_limit=RateLimiter(REQUESTS_PER_SECOND),
            session=session,
        )
        self.cache = TtlCache(cache_ttl)
        self.system = SYSTEM

    async def _track(self, carrier: str, tracking_number: str, number: str) -> Tracking:
        slug = AFTERSHIP_SLUGS.get(carrier_key(carrier))
        answer = await self.http.call("GET", "/trackings", params={"tracking_numbers": number})
        if answer.status == 404 and _meta_code(answer.body) == _DOES_NOT_EXIST:
            found = None
        else:
            data = _data(answer)
            found = _pick(_trackings(data), number, slug)
        if found is None:
            found = await self._create(carrier, tracking_number, number, slug)
        try:
            return to_tracking(found, carrier, tracking_number)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BackendUnavailable(
                f"malformed tracking from {SYSTEM}: {exc!r}", system=SYSTEM
            ) from exc

    async def _create(
        self, carrier: str, tracking_number: str, number: str, slug: str | None
    ) -> dict[str, Any]:
        """Ask AfterShip to start tracking; its answer is (almost always) still "Pending"."""
        payload = {"tracking_number": number, **({"slug": slug} if slug else {})}
        answer = await self.http.call("POST", "/trackings", payload)
        code = _meta_code(answer.body)
        if code == _ALREADY_EXISTS or code in _UNTRACKABLE:
            raise TrackingNotFound(f"{carrier} {tracking_number}: {SYSTEM} meta code {code}")
        return _data(answer)


def to_tracking(data: Mapping[str, Any], carrier: str, tracking_number: str) -> Tracking:
    """Our ``Tracking`` from an AfterShip tracking object (2024-07 shape, older names too).

    ``TrackingNotFound`` when AfterShip has nothing to say yet (tag "Pending", no checkpoints);
    ``TypeError`` for a malformed object.
    """
    raw_checkpoints = data.get("checkpoints")
    if raw_checkpoints is None:
        raw_checkpoints = []
    elif not isinstance(raw_checkpoints, list):
        raise TypeError(f"checkpoints is not a list: {raw_checkpoints!r}")
    checkpoints = sorted(
        (c for c in (_checkpoint(raw) for raw in raw_checkpoints) if c),
        key=lambda c: c.time,  # stable: AfterShip's own (oldest-first) order breaks ties
    )
    latest_message = checkpoints[-1].message if checkpoints else None
    status = aftership_status(data.get("tag"), data.get("subtag"), latest_message)
    if status is None:
        if not checkpoints:
            raise TrackingNotFound(f"{carrier} {tracking_number}: no information yet")
        status = checkpoints[-1].status
    return Tracking(
        carrier=carrier,
        tracking_number=tracking_number,
        status=status,
        checkpoints=tuple(checkpoints),
        estimated_delivery=None if status is TrackingStatus.DELIVERED else _edd(data),
        tracking_url=_text(data.get("courier_tracking_link"))
        or _text(data.get("aftership_tracking_url")),
    )


def _checkpoint(raw: Any) -> Checkpoint | None:
    """One checkpoint; ``None`` for one without a readable time, which cannot be placed."""
    if not isinstance(raw, Mapping):
        return None
    time = parse_instant(raw.get("checkpoint_time"))
    if time is None:
        return None
    message = _text(raw.get("message")) or _text(raw.get("subtag_message")) or ""
    status = aftership_status(
        raw.get("tag"), raw.get("subtag"), message, default=TrackingStatus.IN_TRANSIT
    )
    return Checkpoint(
        time=time,
        status=status or TrackingStatus.IN_TRANSIT,
        location=_location(raw),
        message=message,
    )


def _location(raw: Mapping[str, Any]) -> str:
    """The carrier's own location text, else city, state and country put together.

    2024-07 renamed ``country_name`` to ``country_region_name`` [S: AfterShip SDK models]; both
    are read so a change of ``api_version`` does not silently drop the country.
    """
    location = _text(raw.get("location"))
    if location:
        return location
    country = (
        _text(raw.get("country_region_name"))
        or _text(raw.get("country_name"))
        or _text(raw.get("country_region"))
        or _text(raw.get("country_iso3"))
    )
    parts: list[str] = []
    for part in (_text(raw.get("city")), _text(raw.get("state")), country):
        if part and part.casefold() not in (p.casefold() for p in parts):
            parts.append(part)
    return ", ".join(parts)


def _edd(data: Mapping[str, Any]) -> date | None:
    """The estimated delivery day, latest estimate first; of a range, its last day.

    The upper end because a reply says "expected by": promising the early end of a range
    would be broken half the time. Field names [S: AfterShip SDK models, API 2024-07 and
    later]; ``expected_delivery`` is the pre-2024 field, read in case of an older version.
    """
    candidates: list[tuple[Any, tuple[str, ...]]] = [
        (data.get("latest_estimated_delivery"), ("datetime_max", "datetime")),
        (
            data.get("courier_estimated_delivery_date"),
            ("estimated_delivery_date_max", "estimated_delivery_date"),
        ),
        (
            data.get("aftership_estimated_delivery_date"),
            ("estimated_delivery_date_max", "estimated_delivery_date"),
        ),
        (data.get("custom_estimated_delivery_date"), ("datetime_max", "datetime")),
        ({"expected_delivery": data.get("expected_delivery")}, ("expected_delivery",)),
    ]
    for block, fields in candidates:
        if isinstance(block, Mapping):
            for name in fields:
                day = parse_day(block.get(name))
                if day is not None:
                    return day
    return None


def _pick(
    trackings: list[Mapping[str, Any]], number: str, slug: str | None
) -> dict[str, Any] | None:
    """The tracking for this number; with several (one per courier), the one with our slug."""
    same = [
        dict(t)
        for t in trackings
        if compact_number(str(t.get("tracking_number") or "")).casefold() == number.casefold()
    ]
    if not same:
        return None
    return next((t for t in same if slug and t.get("slug") == slug), same[0])


def _trackings(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    trackings = data.get("trackings")
    if not isinstance(trackings, list):
        raise BackendUnavailable(f"{SYSTEM} answered without a trackings list", system=SYSTEM)
    return [t for t in trackings if isinstance(t, Mapping)]


def _data(answer: Answer) -> dict[str, Any]:
    """The ``data`` object of a successful answer; the right exception for any other."""
    if 200 <= answer.status < 300:
        body = answer.body
        if isinstance(body, dict) and isinstance(body.get("data"), dict):
            return dict(body["data"])
        raise BackendUnavailable(
            f"{SYSTEM} answered without a data object", system=SYSTEM, status=answer.status
        )
    if answer.status in (401, 403):
        raise BackendRejected(f"{SYSTEM} rejected our API key", system=SYSTEM, status=answer.status)
    # Includes a 404 without AfterShip's meta code: a wrong base URL or version, which must not
    # pass for "no such parcel".
    detail = _meta_message(answer.body) or f"HTTP {answer.status}"
    raise BackendRejected(
        f"{SYSTEM} refused the request: {detail}", system=SYSTEM, status=answer.status
    )


def _meta_code(body: Any) -> int | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    code = meta.get("code") if isinstance(meta, dict) else None
    return code if isinstance(code, int) else None


def _meta_message(body: Any) -> str | None:
    meta = body.get("meta") if isinstance(body, dict) else None
    if not isinstance(meta, dict):
        return None
    return f"{meta.get('code')} {meta.get('type') or ''} {meta.get('message') or ''}".strip()


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
