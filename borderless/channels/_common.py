"""What the WhatsApp channels share: bounded body reads, de-duplication, background dispatch,
the 24-hour service window, outbound HTTP and the country hint of a phone number.

Both WhatsApp routes (Meta's Cloud API and Twilio) have the same obligations: answer the webhook
within a few hundred milliseconds or the provider retries, never process a retried delivery
twice, never let a slow or failing bot turn lose a message silently, and never send free-form
text to someone whose 24-hour customer-service window has closed. Keeping those rules here means
the two connectors differ only in wire formats.

Everything in this module is per process. That is right for one Rasa instance; several instances
behind a load balancer need a shared store for :class:`SeenIds` and :class:`WindowStore` (Redis:
``SET key 1 NX EX ttl`` for ids, a hash per recipient for the window) — both are small seams.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
"""Webhook bodies are a few KiB; anything this large is not from the provider."""

SERVICE_WINDOW_SECONDS = 24 * 60 * 60
"""WhatsApp's customer-service window: free-form messages only within 24 h of the user's last."""

K = TypeVar("K")
V = TypeVar("V")


# --------------------------------------------------------------------------------------------
# Request bodies and error answers


class BodyTooLarge(Exception):
    """The webhook body exceeds the limit; answered with 413 before it is buffered."""


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """Read a streamed request body, refusing more than ``limit`` bytes.

    The route must be registered with ``stream=True``: otherwise Sanic buffers up to its global
    ``REQUEST_MAX_SIZE`` (100 MB) before the handler runs, and a signature check that comes after
    that protects nothing. What we refuse is not buffered: after the 413 Sanic reads the rest and
    throws it away (still capped by ``REQUEST_MAX_SIZE``), so the client sees a clean answer
    instead of a connection reset in the middle of its upload.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"body of {declared} bytes exceeds {limit}")
    if request.stream is None:  # a non-streaming route: Sanic has read it already
        body = request.body or b""
        if len(body) > limit:
            raise BodyTooLarge(f"body exceeds {limit} bytes")
        return body
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream:
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(f"body exceeds {limit} bytes")
            chunks.append(chunk)
    except PayloadTooLarge as exc:  # beyond Sanic's own REQUEST_MAX_SIZE
        raise BodyTooLarge(str(exc)) from None
    return b"".join(chunks)


def error_response(status: int, error: str, detail: str | None = None) -> HTTPResponse:
    """A JSON error a provider's delivery log shows verbatim, so say what was wrong."""
    body: dict[str, Any] = {"error": error}
    if detail:
        body["detail"] = detail
    return json_response(body, status=status)


# --------------------------------------------------------------------------------------------
# Bounded memory


class TtlLru(Generic[K, V]):
    """A dict that forgets entries after ``ttl`` seconds and holds at most ``maxsize`` of them.

    Webhook state is keyed by ids an attacker with a valid signature cannot flood us with, but
    a busy number still produces unbounded ids, so every in-memory table here is capped.
    """

    def __init__(
        self, ttl: float, maxsize: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.maxsize = maxsize
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self._clock() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)

    def pop(self, key: K) -> V | None:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self._items)


class SeenIds:
    """Provider message ids already accepted, so a redelivery is acknowledged but not processed.

    Meta and Twilio both deliver at least once. Callers check and mark without an ``await`` in
    between, so two concurrent deliveries of one id cannot both pass.
    """

    def __init__(self, ttl: float = SERVICE_WINDOW_SECONDS, maxsize: int = 100_000) -> None:
        self._ids: TtlLru[str, bool] = TtlLru(ttl, maxsize)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def add(self, message_id: str) -> None:
        self._ids.put(message_id, True)

    def forget(self, message_id: str) -> None:
        """Let a redelivery through again (the first attempt was not accepted after all)."""
        self._ids.pop(message_id)


# --------------------------------------------------------------------------------------------
# Background processing


Job = Callable[[], Awaitable[None]]


class BackgroundDispatcher:
    """Runs bot turns after the webhook has been answered, in order per conversation.

    The provider only needs to know we have the message; a bot turn (NLU, actions, a backend
    call) can take seconds, and a webhook that answers slowly is retried, which would duplicate
    the turn. Jobs for one key run one after another, so a customer's quick second message is
    never handled before the first; different customers run concurrently. Task references are
    kept (the event loop holds only weak ones), failures are logged with the message id, and
    :meth:`drain` lets a graceful shutdown finish the turns already accepted.
    """

    def __init__(self, name: str, max_pending: int = 1000) -> None:
        self.name = name
        self.max_pending = max_pending
        self._tasks: set[asyncio.Task[None]] = set()
        self._tails: dict[str, asyncio.Task[None]] = {}

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def has_room_for(self, count: int) -> bool:
        """False when accepting ``count`` more would exceed ``max_pending`` (answer 503)."""
        return self.pending + count <= self.max_pending

    def submit(self, key: str, job: Job, label: str) -> asyncio.Task[None]:
        previous = self._tails.get(key)
        task = asyncio.create_task(self._run(previous, job, label))
        self._tasks.add(task)
        self._tails[key] = task
        task.add_done_callback(lambda done: self._finished(key, done))
        return task

    async def _run(self, previous: asyncio.Task[None] | None, job: Job, label: str) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # its failure is its own; we only wait for our turn
        try:
            await job()
        except asyncio.CancelledError:
            logger.error("%s: processing of %s was cancelled before it finished", self.name, label)
            raise
        except Exception:
            logger.exception("%s: processing of %s failed", self.name, label)

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._tails.get(key) is task:
            del self._tails[key]

    async def drain(self, timeout: float = 10.0) -> int:
        """Wait up to ``timeout`` s for accepted turns; cancel (and log) the rest.

        Returns how many had to be cancelled.
        """
        if not self._tasks:
            return 0
        _, unfinished = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in unfinished:
            task.cancel()
        if unfinished:
            logger.error(
                "%s: %d message(s) still in progress at shutdown were cancelled",
                self.name,
                len(unfinished),
            )
            await asyncio.wait(unfinished, timeout=1.0)
        return len(unfinished)


# --------------------------------------------------------------------------------------------
# The 24-hour customer-service window


@dataclass(frozen=True)
class WindowState:
    last_inbound: float | None = None
    """Epoch seconds of the customer's latest message; ``None`` once the provider says closed."""
    template_sent_at: float | None = None
    """When we last sent the re-engagement template, so we do not send it for every reply."""


class WindowStore(Protocol):
    """Where window state lives. In memory by default; give Redis or SQL for restarts/scale-out.

    Without persistence a restart forgets every open window, which errs on the safe side: the
    next proactive message becomes a template instead of a rejected free-form message.
    """

    async def load(self, recipient: str) -> WindowState | None: ...

    async def save(self, recipient: str, state: WindowState) -> None: ...


class InMemoryWindowStore:
    """The default :class:`WindowStore`: an LRU of recent recipients."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self.maxsize = maxsize
        self._states: OrderedDict[str, WindowState] = OrderedDict()

    async def load(self, recipient: str) -> WindowState | None:
        return self._states.get(recipient)

    async def save(self, recipient: str, state: WindowState) -> None:
        self._states[recipient] = state
        self._states.move_to_end(recipient)
        while len(self._states) > self.maxsize:
            self._states.popitem(last=False)


class ServiceWindow:
    """Knows whether a free-form message may go to a recipient now, or only a template.

    A customer's message opens (or refreshes) the window for 24 h; our own messages do not.
    Outside it WhatsApp accepts only approved templates, so the output channels ask here first
    and send the configured template once instead of messages that would be rejected.
    """

    def __init__(
        self,
        store: WindowStore | None = None,
        *,
        length: float = SERVICE_WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store: WindowStore = store if store is not None else InMemoryWindowStore()
        self.length = length
        self.clock = clock

    async def record_inbound(self, recipient: str, at: float | None = None) -> None:
        """The customer wrote at ``at`` (their send time; clamped to now, never in the future)."""
        now = self.clock()
        at = now if at is None else min(at, now)
        state = await self.store.load(recipient)
        if state is not None and state.last_inbound is not None:
            at = max(at, state.last_inbound)  # a late redelivery must not shorten the window
        await self.store.save(recipient, WindowState(last_inbound=at, template_sent_at=None))

    async def is_open(self, recipient: str) -> bool:
        state = await self.store.load(recipient)
        if state is None or state.last_inbound is None:
            return False
        return self.clock() - state.last_inbound < self.length

    async def mark_closed(self, recipient: str) -> None:
        """The provider rejected a free-form message as outside the window; believe it."""
        state = await self.store.load(recipient) or WindowState()
        await self.store.save(recipient, replace(state, last_inbound=None))

    async def claim_template(self, recipient: str) -> bool:
        """True if a template should go out now: at most one per window length while closed."""
        state = await self.store.load(recipient) or WindowState()
        now = self.clock()
        if state.template_sent_at is not None and now - state.template_sent_at < self.length:
            return False
        await self.store.save(recipient, replace(state, template_sent_at=now))
        return True


# --------------------------------------------------------------------------------------------
# Outbound HTTP


@dataclass(frozen=True)
class SendResult:
    status: int
    body: Any
    """Decoded JSON, or the raw text when the answer was not JSON."""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


class HttpSender:
    """POSTs to a provider's send API without blocking the event loop.

    Retries only when the message certainly was not accepted — the connection could not be
    made, or the answer was 429/502/503/504 — because a send API has no idempotency key and a
    retry after a lost answer would message the customer twice. Returns ``None`` when the
    provider stayed unreachable; callers log and carry on, since raising inside Rasa's
    ``send_response`` would abort the turn before the tracker is saved.
    """

    def __init__(
        self,
        *,
        system: str,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.system = system
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._session = session
        self._owns_session = session is None

    async def post(
        self,
        url: str,
        *,
        json_body: Any = None,
        form: list[tuple[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        auth: aiohttp.BasicAuth | None = None,
    ) -> SendResult | None:
        for attempt in range(1, self.attempts + 1):
            delay = self.backoff * attempt
            try:
                result = await self._post_once(url, json_body, form, headers, auth)
            except (aiohttp.ClientConnectorError, ConnectionRefusedError) as exc:
                logger.warning("%s: cannot connect (attempt %d): %s", self.system, attempt, exc)
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                # The request may have been delivered; retrying could double the message.
                logger.error("%s: no usable answer, not retrying: %r", self.system, exc)
                return None
            else:
                if result.status not in RETRYABLE_STATUSES:
                    return result
                logger.warning(
                    "%s: HTTP %d (attempt %d): %s", self.system, result.status, attempt, result.body
                )
                retry_after = _seconds(result.headers.get("Retry-After"))
                if retry_after is not None:
                    delay = min(retry_after, 5.0)
                if attempt == self.attempts:
                    return result
            if attempt < self.attempts:
                await asyncio.sleep(delay)
        return None

    async def _post_once(
        self,
        url: str,
        json_body: Any,
        form: list[tuple[str, str]] | None,
        headers: dict[str, str] | None,
        auth: aiohttp.BasicAuth | None,
    ) -> SendResult:
        session = self._get_session()
        async with session.post(
            url,
            json=json_body,
            data=form,
            headers=headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=self.timeout),
        ) as response:
            raw = await response.read()
            text = raw.decode("utf-8", errors="replace")
            try:
                body: Any = json.loads(text) if text else None
            except json.JSONDecodeError:
                body = text
            return SendResult(response.status, body, dict(response.headers))

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    async def aclose(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def _seconds(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Text helpers


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at a paragraph, line or word
    break when there is one in the second half of the part (a hard cut otherwise)."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = -1
        for separator in ("\n\n", "\n", " "):
            cut = text.rfind(separator, limit // 2, limit)
            if cut != -1:
                break
        if cut == -1:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters, marking the cut with an ellipsis."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mask_phone(phone: str) -> str:
    """Enough of a number to correlate log lines, not enough to identify a customer."""
    digits = phone.removeprefix("whatsapp:")
    if len(digits) <= 6:
        return "***"
    return digits[:4] + "*" * (len(digits) - 6) + digits[-2:]


@dataclass(frozen=True)
class ButtonOption:
    title: str
    payload: str


def button_option(button: Any) -> ButtonOption | None:
    """A Rasa button (``title``/``payload``) as an option; either alone stands in for both."""
    if not isinstance(button, dict):
        return None
    title, payload = button.get("title"), button.get("payload")
    title = str(title).strip() if title is not None else ""
    payload = str(payload).strip() if payload is not None else ""
    if not title and not payload:
        return None
    return ButtonOption(title=title or payload, payload=payload or title)


class PayloadAliases:
    """Short stand-ins for button payloads longer than WhatsApp allows as an id.

    Truncating a payload would change its meaning, so a long one is sent as ``bl:<hash>`` and
    mapped back when the tap comes in. If the alias has been forgotten (restart, expiry), the
    inbound side falls back to the button's title, which still reads as what the user chose.
    """

    PREFIX = "bl:"

    def __init__(self, ttl: float = 7 * SERVICE_WINDOW_SECONDS, maxsize: int = 10_000) -> None:
        self._payloads: TtlLru[str, str] = TtlLru(ttl, maxsize)

    def alias(self, payload: str) -> str:
        key = self.PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        self._payloads.put(key, payload)
        return key

    def resolve(self, reply_id: str) -> str | None:
        """The payload behind an alias; ``reply_id`` itself if it is not an alias."""
        if not reply_id.startswith(self.PREFIX):
            return reply_id
        return self._payloads.get(reply_id)


# --------------------------------------------------------------------------------------------
# Country hint from the calling code

# ITU-T E.164 country calling codes → ISO 3166-1 alpha-2, for the countries a cross-border shop
# mostly hears from. Codes shared by several countries map to the largest; +1 and +7 are refined
# below by area code. Not a validator: an unknown code simply gives no hint.
CALLING_CODES: dict[str, str] = {
    "1": "US", "7": "RU",
    "20": "EG", "27": "ZA", "30": "GR", "31": "NL", "32": "BE", "33": "FR", "34": "ES",
    "36": "HU", "39": "IT", "40": "RO", "41": "CH", "43": "AT", "44": "GB", "45": "DK",
    "46": "SE", "47": "NO", "48": "PL", "49": "DE", "51": "PE", "52": "MX", "53": "CU",
    "54": "AR", "55": "BR", "56": "CL", "57": "CO", "58": "VE", "60": "MY", "61": "AU",
    "62": "ID", "63": "PH", "64": "NZ", "65": "SG", "66": "TH", "81": "JP", "82": "KR",
    "84": "VN", "86": "CN", "90": "TR", "91": "IN", "92": "PK", "93": "AF", "94": "LK",
    "95": "MM", "98": "IR",
    "212": "MA", "213": "DZ", "216": "TN", "218": "LY", "221": "SN", "225": "CI", "233": "GH",
    "234": "NG", "237": "CM", "251": "ET", "254": "KE", "255": "TZ", "256": "UG", "260": "ZM",
    "263": "ZW",
    "351": "PT", "352": "LU", "353": "IE", "354": "IS", "355": "AL", "356": "MT", "357": "CY",
    "358": "FI", "359": "BG", "370": "LT", "371": "LV", "372": "EE", "373": "MD", "374": "AM",
    "375": "BY", "377": "MC", "380": "UA", "381": "RS", "385": "HR", "386": "SI", "387": "BA",
    "389": "MK", "420": "CZ", "421": "SK", "423": "LI",
    "502": "GT", "503": "SV", "504": "HN", "505": "NI", "506": "CR", "507": "PA", "591": "BO",
    "593": "EC", "595": "PY", "598": "UY",
    "852": "HK", "853": "MO", "855": "KH", "880": "BD", "886": "TW",
    "960": "MV", "961": "LB", "962": "JO", "963": "SY", "964": "IQ", "965": "KW", "966": "SA",
    "967": "YE", "968": "OM", "970": "PS", "971": "AE", "972": "IL", "973": "BH", "974": "QA",
    "975": "BT", "976": "MN", "977": "NP", "992": "TJ", "993": "TM", "994": "AZ", "995": "GE",
    "996": "KG", "998": "UZ",
}  # fmt: skip

# North American Numbering Plan (+1) area codes outside the United States.
_CANADA = (
    "204 226 236 249 250 263 289 306 343 354 365 367 368 382 403 416 418 428 431 437 438 450 "
    "468 474 506 514 519 548 579 581 584 587 604 613 639 647 672 683 705 709 742 753 778 780 "
    "782 807 819 825 867 873 879 902 905"
)
NANP_AREAS: dict[str, str] = {code: "CA" for code in _CANADA.split()} | {
    "242": "BS", "246": "BB", "264": "AI", "268": "AG", "284": "VG", "340": "VI", "345": "KY",
    "441": "BM", "473": "GD", "649": "TC", "658": "JM", "664": "MS", "670": "MP", "671": "GU",
    "684": "AS", "721": "SX", "758": "LC", "767": "DM", "784": "VC", "787": "PR", "809": "DO",
    "829": "DO", "849": "DO", "868": "TT", "869": "KN", "876": "JM", "939": "PR",
}  # fmt: skip


def country_hint(phone: str) -> str | None:
    """The ISO country a phone number is registered in, from its calling code (or ``None``).

    Only a hint: it says where the SIM is from, not where the parcel goes, and nothing about
    the customer's language (a +41 number may write German, French or Italian), so it must
    never be used to pick the reply language.
    """
    digits = phone.removeprefix("whatsapp:").strip().removeprefix("+").removeprefix("00")
    if not digits.isdigit():
        return None
    if digits.startswith("1"):
        return NANP_AREAS.get(digits[1:4], "US") if len(digits) == 11 else "US"
    if digits.startswith("7"):
        return "KZ" if digits[1:2] in ("6", "7") else "RU"
    for length in (3, 2, 1):
        code = CALLING_CODES.get(digits[:length])
        if code is not None:
            return code
    return None


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --------------------------------------------------------------------------------------------
# The conversation language, for templates outside the window


class ConversationLanguages:
    """The language each recipient was last answered in, so a template sent outside the
    24-hour window (typically an agent's late reply, which carries no language) goes out in
    the conversation's language. Bot responses carry it: ``CatalogNLG`` adds ``language`` to
    every message it renders, which Rasa passes to the output channel's ``send_*`` kwargs."""

    def __init__(self, ttl: float = 30 * SERVICE_WINDOW_SECONDS, maxsize: int = 100_000) -> None:
        self._languages: TtlLru[str, str] = TtlLru(ttl, maxsize)

    def note(self, recipient: str, kwargs: dict[str, Any]) -> None:
        language = kwargs.get("language")
        if isinstance(language, str) and language:
            self._languages.put(recipient, language)

    def get(self, recipient: str) -> str | None:
        return self._languages.get(recipient)


# --------------------------------------------------------------------------------------------
# The shared input channel


class WhatsAppWebhookInput(InputChannel, ABC):
    """What the two WhatsApp webhooks (Meta's Cloud API and Twilio) share: state, lifecycle,
    routes. Subclasses name the provider (``system``, ``blueprint_name``), build their output
    channel, may add routes, and turn a delivery into turns in :meth:`_receive`, using
    :meth:`_read_body` and :meth:`_busy` for the common answers."""

    system: ClassVar[str]
    blueprint_name: ClassVar[str]

    def __init__(
        self,
        config: Any,
        *,
        window_store: WindowStore | None = None,
        session: aiohttp.ClientSession | None = None,
        clock: Callable[[], float] = time.time,
        max_body_bytes: int = MAX_BODY_BYTES,
        drain_seconds: float = 10.0,
    ) -> None:
        self.config = config
        self.max_body_bytes = max_body_bytes
        self.drain_seconds = drain_seconds
        self.window = ServiceWindow(window_store, clock=clock)
        self.sender = HttpSender(system=self.system, session=session)
        self.seen = SeenIds(ttl=config.dedupe_ttl_seconds)
        self.languages = ConversationLanguages()
        self.dispatcher = BackgroundDispatcher(self.name(), max_pending=config.max_pending)

    @abstractmethod
    def get_output_channel(self) -> OutputChannel: ...

    async def in_service_window(self, recipient_id: str) -> bool:
        """For callers outside a turn (the handoff desk): may an agent write free-form now?"""
        output = self.get_output_channel()
        return bool(await output.in_service_window(recipient_id))

    async def aclose(self) -> None:
        """Finish accepted turns and close the HTTP session (also done on server stop)."""
        await self.dispatcher.drain(self.drain_seconds)
        await self.sender.aclose()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint(self.blueprint_name, self.__module__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return json_response({"status": "ok"})

        self._add_routes(webhook)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @webhook.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            await self.aclose()

        return webhook

    def _add_routes(self, webhook: Blueprint) -> None:
        """Provider-specific routes besides health and the POST webhook (none by default)."""

    @abstractmethod
    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse: ...

    async def _read_body(self, request: Request) -> bytes | HTTPResponse:
        """The raw body, or the 413 answer for one over ``max_body_bytes``."""
        try:
            return await read_body(request, self.max_body_bytes)
        except BodyTooLarge:
            return error_response(
                413, "payload too large", f"webhook bodies are limited to {self.max_body_bytes}"
            )

    @staticmethod
    def _busy() -> HTTPResponse:
        """503 with Retry-After: the provider redelivers later instead of us dropping turns."""
        response = error_response(503, "busy", "too many messages in progress")
        response.headers["Retry-After"] = "30"
        return response


def language_map(value: Any, where: str) -> dict[str, str]:
    """A ``language → code`` mapping from credentials.yml: a YAML mapping, or a string
    ``"de:de, pt:pt_BR"`` (what a ``${VARIABLE}`` can hold). Empty for nothing."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        pairs = [item.split(":", 1) for item in value.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"{where}: expected 'language:code, ...', got {value!r}")
        value = {key: code for key, code in pairs}
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping of language to code")
    result = {str(k).strip().lower(): str(v).strip() for k, v in value.items()}
    return {k: v for k, v in result.items() if k and v}
