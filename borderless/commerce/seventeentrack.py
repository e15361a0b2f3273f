"""``LogisticsSystem`` on the 17TRACK API v2.2: thousands of carriers, one JSON envelope.

Why it is shaped like this:

* 17TRACK answers only for registered numbers, and registering costs quota (100 numbers a month
  on the free plan [V]) while ``gettrackinfo`` is free. So we always ask first and register only
  a number 17TRACK says it does not know; the customer then hears "no tracking yet"
  (``TrackingNotFound``), since 17TRACK fetches the carrier's data later, asynchronously.
* Every call is ``POST https://api.17track.net/track/v2.2/<op>`` with a JSON list and the
  ``17token`` header [V]. Per-number failures come back with HTTP 200 in
  ``data.rejected[i].error``; whole-request failures as HTTP 401/429/5xx [V] or as a non-zero
  ``code`` with ``data.errors`` [S]. Both are turned into our own exceptions here.
* One time budget for the whole ``track()`` (look-up and registration together), a token bucket
  at about 3 requests/s [S] and a five-minute cache per number.

The v2.2 and v2.4 APIs are not compatible [V]; this adapter speaks v2.2 only. Confidence tags
([V]/[S]/[M]) as in ``/work/shared/reference/external-apis.md`` section 1c.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import aiohttp

from borderless.commerce.errors import (
    BackendRejected,
    BackendUnavailable,
    CommerceError,
    RateLimited,
    TrackingNotFound,
)
from borderless.commerce.http import Answer, JsonHttpClient, RateLimiter, TtlCache
from borderless.commerce.models import Checkpoint, Tracking, TrackingStatus
from borderless.commerce.tracking_adapter import TrackingAdapter
from borderless.commerce.tracking_status import (
    carrier_key,
    compact_number,
    parse_day,
    parse_instant,
    seventeentrack_status,
)

SYSTEM = "17track"
DEFAULT_BASE_URL = "https://api.17track.net"
API_PATH = "/track/v2.2"  # [V]
REQUESTS_PER_SECOND = 3.0  # [S] a public client's comment citing the docs
CACHE_SECONDS = 300.0
PUBLIC_PAGE = "https://t.17track.net/en#nums={number}"  # the link format demo/orders.yml uses

# Our carrier names to 17TRACK carrier codes. A carrier missing here is sent without a code, so
# 17TRACK detects it: a wrong code would make 17TRACK ask the wrong carrier, which is worse.
# [S] public clients' constant tables; YunExpress and 4PX are left out because the clients we
# read disagree on (or do not have) their codes.
SEVENTEENTRACK_CARRIERS: Mapping[str, int] = {
    "dhl": 100001,  # DHL Express [S]
    "dhl express": 100001,
    "ups": 100002,  # [S]
    "fedex": 100003,  # [S]
    "usps": 21051,  # [S]
    "china post": 3011,  # [S] also the carrier of 17TRACK's own RR123456789CN examples
    "cainiao": 190271,  # [S] one client only
}

# ``error.code`` values. [S] a public client's table of the v2.2 codes (-180...), 17TRACK's
# document itself was not read; 4031 and 4013 are the codes external-apis.md says clients use
# for "quota exceeded" and "ambiguous carrier" [S], not found in any v2.2 table we read [M].
NOT_REGISTERED = -18019902
ALREADY_REGISTERED = -18019901
NO_INFORMATION = frozenset({-18019909})  # "No tracking information at this time"
CARRIER_UNKNOWN = frozenset({-18019903, -18019910, 4013})  # cannot detect / invalid carrier
QUOTA_EXHAUSTED = frozenset({-18019908, 4031})  # "Quota is not enough for use"
REQUEST_LIMIT = frozenset({-18019907, -18010014})  # daily request limit, request limit
ACCESS_DENIED = frozenset({-18010001, -18010002, -18010004, -18010005})  # IP, token, account
INTERNAL_ERROR = frozenset({-18010003})  # "Internal service error, please retry later"


class SeventeenTrackTracking(TrackingAdapter):
    """``LogisticsSystem`` backed by 17TRACK API v2.2.

    ``timeout`` bounds a whole ``track()``; a 5xx, 429 or dropped connection is retried once if
    that still fits. ``base_url`` is the host only (``/track/v2.2`` is added), so tests point it
    at a local server. Pass ``session`` to share a connection pool; a session passed in is left
    open by ``close()``. No I/O at construction.
    """

    def __init__(
        self,
        api_key: str,
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
            base_url.rstrip("/") + API_PATH,
            system=SYSTEM,
            headers={"17token": api_key},
            timeout=timeout,
            attempts=attempts,
            backoff=backoff,
            rate_limit=RateLimiter(REQUESTS_PER_SECOND),
            session=session,
        )
        self.cache = TtlCache(cache_ttl)
        self.system = SYSTEM

    async def _track(self, carrier: str, tracking_number: str, number: str) -> Tracking:
        code = SEVENTEENTRACK_CARRIERS.get(carrier_key(carrier))
        item: dict[str, Any] = {"number": number, **({"carrier": code} if code else {})}
        data = await self._post("gettrackinfo", [item])
        accepted = _entry(data.get("accepted"), number)
        if accepted is not None:
            try:
                return to_tracking(accepted, carrier, tracking_number)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise BackendUnavailable(
                    f"malformed tracking from {SYSTEM}: {exc!r}", system=SYSTEM
                ) from exc
        error = _rejection(data, number)
        if error != NOT_REGISTERED:
            raise _exception(error, f"{carrier} {tracking_number}")
        await self._register(item, f"{carrier} {tracking_number}")
        raise TrackingNotFound(f"{carrier} {tracking_number}: registered, information comes later")

    async def _register(self, item: Mapping[str, Any], what: str) -> None:
        """Start tracking a number (one unit of quota); already registered is fine too."""
        data = await self._post("register", [item])
        if _entry(data.get("accepted"), str(item["number"])) is not None:
            return
        error = _rejection(data, str(item["number"]))
        if error != ALREADY_REGISTERED:
            raise _exception(error, what)

    async def _post(self, operation: str, payload: list[Mapping[str, Any]]) -> dict[str, Any]:
        """``data`` of a successful envelope; our exception for everything else."""
        answer = await self.http.call("POST", f"/{quote(operation)}", payload)
        body = _body(answer)
        data = body.get("data")
        if body.get("code") != 0:
            raise _exception(_envelope_error(body), f"the {operation} request")
        if not isinstance(data, dict):
            raise BackendUnavailable(f"{SYSTEM} answered without a data object", system=SYSTEM)
        return data


def to_tracking(entry: Mapping[str, Any], carrier: str, tracking_number: str) -> Tracking:
    """Our ``Tracking`` from one ``accepted`` entry of ``gettrackinfo``.

    ``TrackingNotFound`` while the number is registered but the carrier has nothing yet
    (status "NotFound" and no events).
    """
    info = entry.get("track_info")
    if not isinstance(info, Mapping):
        raise TrackingNotFound(f"{carrier} {tracking_number}: no information yet")
    checkpoints = _checkpoints(info.get("tracking"))
    latest = info.get("latest_status")
    if not isinstance(latest, Mapping):
        latest = {}
    latest_event = info.get("latest_event")
    message = (
        latest_event.get("description")
        if isinstance(latest_event, Mapping)
        else (checkpoints[-1].message if checkpoints else None)
    )
    status = seventeentrack_status(latest.get("status"), latest.get("sub_status"), message)
    if status is None:
        if not checkpoints:
            raise TrackingNotFound(f"{carrier} {tracking_number}: no information yet")
        status = checkpoints[-1].status
    return Tracking(
        carrier=carrier,
        tracking_number=tracking_number,
        status=status,
        checkpoints=tuple(checkpoints),
        estimated_delivery=None if status is TrackingStatus.DELIVERED else _edd(info),
        tracking_url=PUBLIC_PAGE.format(number=quote(compact_number(tracking_number))),
    )


def _checkpoints(tracking: Any) -> list[Checkpoint]:
    """Events of every provider (first-mile and last-mile carrier), merged, oldest first.

    17TRACK lists events newest first; they are reversed before a stable sort so that events
    with the same time keep their real order. The same scan reported by two providers is kept
    once. Missing parts are empty; parts of the wrong type raise ``TypeError`` (malformed).
    """
    seen: set[tuple[datetime, str, str]] = set()
    checkpoints: list[Checkpoint] = []
    for provider in _list(_mapping(tracking).get("providers")):
        for raw in reversed(_list(_mapping(provider).get("events"))):
            checkpoint = _checkpoint(raw)
            if checkpoint is None:
                continue
            key = (checkpoint.time, checkpoint.message, checkpoint.location)
            if key not in seen:
                seen.add(key)
                checkpoints.append(checkpoint)
    checkpoints.sort(key=lambda c: c.time)
    return checkpoints


def _checkpoint(raw: Any) -> Checkpoint | None:
    """One event; ``None`` for one without a readable time, which cannot be placed."""
    if not isinstance(raw, Mapping):
        return None
    # time_iso carries the carrier's offset; when it comes without one, time_utc is exact.
    time = (
        parse_instant(raw.get("time_iso"), assume_utc=False)
        or parse_instant(raw.get("time_utc"))
        or parse_instant(raw.get("time_iso"))
    )
    if time is None:
        return None
    message = _text(raw.get("description")) or ""
    status = seventeentrack_status(
        _stage_status(raw.get("stage")),
        _text(raw.get("sub_status")),
        message,
        default=TrackingStatus.IN_TRANSIT,
    )
    return Checkpoint(
        time=time,
        status=status or TrackingStatus.IN_TRANSIT,
        location=_text(raw.get("location")) or _address(raw.get("address")),
        message=message,
    )


def _stage_status(stage: Any) -> str | None:
    """The main status a milestone ``stage`` implies, for events without a ``sub_status``.

    Stages are milestone names (PickedUp, Departure, Arrival, ...) [S], not statuses; only the
    ones that name a status are passed on.
    """
    stages = {
        "InfoReceived": "InfoReceived",
        "PickedUp": "InTransit",
        "Departure": "InTransit",
        "Arrival": "InTransit",
        "AvailableForPickup": "AvailableForPickup",
        "OutForDelivery": "OutForDelivery",
        "Delivered": "Delivered",
        "Returning": "Exception",
        "Returned": "Exception",
    }
    return stages.get(stage) if isinstance(stage, str) else None


def _edd(info: Mapping[str, Any]) -> date | None:
    """Last day of ``time_metrics.estimated_delivery_date`` (``to``, else ``from``). [M]

    The upper end because a reply says "expected by".
    """
    metrics = info.get("time_metrics")
    estimate = metrics.get("estimated_delivery_date") if isinstance(metrics, Mapping) else None
    if not isinstance(estimate, Mapping):
        return None
    return parse_day(estimate.get("to")) or parse_day(estimate.get("from"))


def _address(address: Any) -> str:
    if not isinstance(address, Mapping):
        return ""
    parts = [_text(address.get(k)) for k in ("city", "state", "country")]
    return ", ".join(p for p in parts if p)


def _entry(entries: Any, number: str) -> Mapping[str, Any] | None:
    for entry in entries if isinstance(entries, list) else ():
        if isinstance(entry, Mapping) and _same(entry.get("number"), number):
            return entry
    return None


def _rejection(data: Mapping[str, Any], number: str) -> Any:
    """The error code 17TRACK gave for this number; a missing answer is a malformed one."""
    entry = _entry(data.get("rejected"), number)
    error = entry.get("error") if entry is not None else None
    if not isinstance(error, Mapping):
        raise BackendUnavailable(f"{SYSTEM} neither accepted nor rejected {number}", system=SYSTEM)
    return error.get("code")


def _exception(code: Any, what: str) -> CommerceError:
    """Our exception for a 17TRACK error code.

    Quota and request limits become ``RateLimited``: nothing is wrong with the request or the
    key, the limit lifts by itself (daily, monthly) or when quota is bought, and meanwhile the
    customer is offered a human like for any other ``BackendError``. ``BackendRejected`` would
    tell operators to fix a configuration that is fine.
    """
    if not isinstance(code, int):  # not a code at all: nothing to look up
        return BackendRejected(f"{SYSTEM} refused {what}: error {code!r}", system=SYSTEM)
    if code in NO_INFORMATION or code in CARRIER_UNKNOWN:
        return TrackingNotFound(f"{what}: {SYSTEM} error {code}")
    if code in QUOTA_EXHAUSTED:
        return RateLimited(f"{SYSTEM} tracking quota exhausted ({code})", system=SYSTEM)
    if code in REQUEST_LIMIT:
        return RateLimited(f"{SYSTEM} request limit reached ({code})", system=SYSTEM)
    if code in ACCESS_DENIED:
        return BackendRejected(f"{SYSTEM} rejected our API key ({code})", system=SYSTEM)
    if code in INTERNAL_ERROR:
        return BackendUnavailable(f"{SYSTEM} internal error ({code})", system=SYSTEM)
    return BackendRejected(f"{SYSTEM} refused {what}: error {code}", system=SYSTEM)


def _body(answer: Answer) -> dict[str, Any]:
    if answer.status in (401, 403):
        raise BackendRejected(
            f"{SYSTEM} rejected our API key or IP address", system=SYSTEM, status=answer.status
        )
    if not 200 <= answer.status < 300:
        raise BackendRejected(
            f"{SYSTEM} refused the request: HTTP {answer.status}",
            system=SYSTEM,
            status=answer.status,
        )
    if not isinstance(answer.body, dict):
        raise BackendUnavailable(
            f"{SYSTEM} answered without a JSON object", system=SYSTEM, status=answer.status
        )
    return answer.body


def _mapping(value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {value!r}")
    return value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {value!r}")
    return value


def _envelope_error(body: Mapping[str, Any]) -> Any:
    """The code of a failed request: ``data.errors[0].code`` [S], else the envelope's ``code``."""
    data = body.get("data")
    errors = data.get("errors") if isinstance(data, Mapping) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if isinstance(first, Mapping) and first.get("code") is not None:
        return first["code"]
    return body.get("code")


def _same(value: Any, number: str) -> bool:
    return isinstance(value, str) and compact_number(value).casefold() == number.casefold()


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None
