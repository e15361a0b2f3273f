"""Facebook Messenger input channel, hardened where Rasa's built-in ``facebook`` connector is not.

Rasa 3.6's ``rasa.core.channels.facebook`` checks only the SHA-1 ``X-Hub-Signature`` with ``==``,
answers a failed check with HTTP 200 "not validated", handles a webhook inline (Meta retries and
eventually disables a slow webhook) and sends through the blocking ``fbmessenger``/``requests``
client, which stalls Rasa's event loop for every reply. This channel instead:

* verifies ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with the app secret) in constant
  time *before* parsing anything, and answers 403 when it is missing or wrong. It never falls back
  to SHA-1: Meta always sends the SHA-256 header, so a request with only SHA-1 is not from Meta.
* caps the body at 256 KiB (413) while streaming it in, and answers malformed payloads with a
  400 JSON error; nothing a client sends can produce a 500.
* answers 200 at once and runs the dialogue in a background task. Meta re-delivers a message it
  thinks failed, so messages are de-duplicated on their ``mid`` (an in-process LRU with a TTL;
  with several Rasa replicas behind a load balancer this must move to Redis ``SET NX EX``).
* keeps one customer's messages in order (one lock per PSID) while serving others in parallel.
* looks up the customer's Messenger ``locale`` once per PSID (Graph user profile, short timeout,
  cached) and passes it as message metadata ``locale``, which ``LanguageDetector`` treats as the
  strongest language hint. When Meta withholds the field (it needs advanced profile access) or
  the call fails, the key is simply absent.
* sends with aiohttp, mapping Rasa buttons to quick replies within Messenger's limits.

``credentials.yml``::

    borderless.channels.messenger.MessengerInput:
      verify: ${MESSENGER_VERIFY_TOKEN}            # the token typed into the app's webhook setup
      secret: ${MESSENGER_APP_SECRET}              # app secret: signs webhooks, appsecret_proof
      page-access-token: ${MESSENGER_PAGE_ACCESS_TOKEN}
      graph_url: https://graph.facebook.com        # optional; tests point it at a local server
      api_version: v21.0                           # optional

Meta then calls ``/webhooks/messenger/webhook``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

CHANNEL_NAME = "messenger"
DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"

#: Largest webhook body accepted. Meta batches at most a few events per call; anything this big
#: is not Meta, and reading it into memory is what an attacker would want.
MAX_BODY_BYTES = 256 * 1024
SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="

# Send API limits (Messenger Platform reference: text and quick replies).
MAX_TEXT_CHARS = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_QUICK_REPLY_PAYLOAD = 1000

#: Standard messaging window after the customer's last message, and how long the HUMAN_AGENT
#: tag stretches it for a person (not the bot) answering.
RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)

#: The profile fields asked for. ``locale`` needs Meta's advanced user-profile access.
PROFILE_FIELDS = "locale,first_name"

_MISSING = object()


class MessengerError(RasaException):
    """Base of this channel's errors (a ``RasaException`` so Rasa reports it cleanly)."""


class MessengerSendError(MessengerError):
    """The Send API refused or did not answer; ``code`` is Graph's error code when it gave one."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class OutsideMessagingWindow(MessengerError):
    """The customer last wrote more than 7 days ago: Messenger allows no free-form reply."""


class WebhookPayloadError(ValueError):
    """The (correctly signed) body is not a Messenger ``page`` webhook we can read."""


# --------------------------------------------------------------------------------------------
# Small helpers


class ExpiringLru:
    """A bounded map whose entries expire: de-duplication and profile caching, per process.

    Bounded so a flood of distinct keys cannot grow memory; expiring so a cached failure or a
    changed locale heals itself.
    """

    def __init__(self, ttl: float, size: int, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.size = size
        self._clock = clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()

    def get(self, key: str, default: Any = None) -> Any:
        item = self._items.get(key)
        if item is None:
            return default
        if item[0] <= self._clock():
            del self._items[key]
            return default
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: str, value: Any, ttl: float | None = None) -> None:
        self._items[key] = (self._clock() + (self.ttl if ttl is None else ttl), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def add_if_new(self, key: str) -> bool:
        """Remember ``key``; ``False`` if it was already there (a duplicate).

        Check and insert happen without an ``await`` in between, so two concurrent deliveries
        of one message cannot both pass within one process.
        """
        if self.get(key, _MISSING) is not _MISSING:
            return False
        self.put(key, True)
        return True

    def __len__(self) -> int:
        return len(self._items)


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is ``sha256=<hex HMAC-SHA256(body, app_secret)>``, in constant time."""
    if not header or not header.startswith(SIGNATURE_PREFIX):
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    received = header[len(SIGNATURE_PREFIX) :].strip().lower()
    # compare_digest on str requires ASCII; a non-ASCII header is simply wrong.
    if not received.isascii():
        return False
    return hmac.compare_digest(expected, received)


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Cut ``text`` into parts Messenger accepts, preferring paragraph, line, then word breaks.

    Messenger rejects a text over 2000 characters outright, so a long order summary would
    otherwise never arrive. A break is only used if it keeps the part at least half full.
    """
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        window = text[: limit + 1]
        cut = limit
        for separator in ("\n\n", "\n", " "):
            position = window.rfind(separator, 0, limit + 1)
            if position >= limit // 2:
                cut = position
                break
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


# --------------------------------------------------------------------------------------------
# Inbound parsing


@dataclass(frozen=True)
class MessengerEvent:
    """One customer message or postback worth handing to Rasa."""

    psid: str
    text: str
    dedupe_key: str
    mid: str | None = None
    timestamp: int | None = None
    attachments: tuple[str, ...] = ()


def _require(condition: bool, problem: str) -> None:
    if not condition:
        raise WebhookPayloadError(problem)


def parse_webhook(payload: Any) -> list[MessengerEvent]:
    """The customer messages in a Messenger webhook body, in delivery order.

    Structure errors raise ``WebhookPayloadError`` (answered 400). Events we do not act on -
    echoes of our own sends, delivery and read receipts, reactions, opt-ins, handover and
    ``standby`` entries - are skipped rather than rejected: answering Meta with errors for
    legitimate events would make it retry and, eventually, disable the webhook.
    """
    _require(isinstance(payload, dict), "body must be a JSON object")
    _require(payload.get("object") == "page", 'object must be "page"')
    entries = payload.get("entry")
    _require(isinstance(entries, list), "entry must be a list")
    events: list[MessengerEvent] = []
    for entry in entries:
        _require(isinstance(entry, dict), "every entry must be an object")
        messaging = entry.get("messaging", [])
        _require(isinstance(messaging, list), "entry.messaging must be a list")
        for item in messaging:
            _require(isinstance(item, dict), "every messaging item must be an object")
            event = _parse_messaging(item)
            if event is not None:
                events.append(event)
    return events


def _parse_messaging(item: dict[str, Any]) -> MessengerEvent | None:
    message = item.get("message")
    postback = item.get("postback")
    if message is None and postback is None:
        return None  # delivery, read, reaction, optin, referral, ...
    sender = item.get("sender")
    psid = sender.get("id") if isinstance(sender, dict) else None
    _require(isinstance(psid, str | int) and str(psid) != "", "sender.id is missing")
    psid = str(psid)
    timestamp = item.get("timestamp")
    timestamp = timestamp if isinstance(timestamp, int) else None

    if message is not None:
        _require(isinstance(message, dict), "message must be an object")
        if message.get("is_echo"):
            return None
        mid = message.get("mid")
        _require(isinstance(mid, str) and mid != "", "message.mid is missing")
        quick_reply = message.get("quick_reply")
        payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
        text = message.get("text")
        attachments = message.get("attachments") or []
        _require(isinstance(attachments, list), "message.attachments must be a list")
        kinds = tuple(
            str(attachment.get("type", "unknown"))
            for attachment in attachments
            if isinstance(attachment, dict)
        )
        if isinstance(payload, str) and payload:
            chosen = payload  # the button's payload, not its (translated, truncated) title
        elif isinstance(text, str):
            chosen = text
        elif kinds:
            chosen = ""
        else:
            return None
        return MessengerEvent(psid, chosen, f"mid:{mid}", mid, timestamp, kinds)

    if not isinstance(postback, dict):
        raise WebhookPayloadError("postback must be an object")
    postback_payload = postback.get("payload")
    if not isinstance(postback_payload, str):
        raise WebhookPayloadError("postback.payload is missing")
    mid = postback.get("mid") if isinstance(postback.get("mid"), str) else None
    key = f"mid:{mid}" if mid else f"postback:{psid}:{timestamp}:{postback_payload}"
    return MessengerEvent(psid, postback_payload, key, mid, timestamp)


# --------------------------------------------------------------------------------------------
# Graph API client


class GraphClient:
    """The two Graph calls this channel makes: Send API and user-profile locale.

    One aiohttp session per channel, created lazily inside the running loop (nothing happens at
    construction, which Rasa does at start-up). Every request carries ``appsecret_proof`` so the
    app may switch on Meta's "Require App Secret" setting. The access token travels in the query
    string, so URLs are never logged.
    """

    def __init__(
        self,
        page_access_token: str,
        app_secret: str,
        graph_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        *,
        send_timeout: float = 10.0,
        profile_timeout: float = 1.5,
        profile_ttl: float = 24 * 3600.0,
        profile_failure_ttl: float = 600.0,
        profile_cache_size: int = 50_000,
    ) -> None:
        self.base_url = f"{graph_url.rstrip('/')}/{api_version.strip('/')}"
        self._token = page_access_token
        self._proof = hmac.new(
            app_secret.encode(), page_access_token.encode(), hashlib.sha256
        ).hexdigest()
        self._send_timeout = aiohttp.ClientTimeout(total=send_timeout)
        self._profile_timeout = aiohttp.ClientTimeout(total=profile_timeout)
        # A failed look-up is remembered briefly so an outage does not add a timeout to every
        # message, and retried later because it may have been transient.
        self._profile_failure_ttl = profile_failure_ttl
        self._locales = ExpiringLru(profile_ttl, profile_cache_size)
        self._session: aiohttp.ClientSession | None = None

    def _auth(self) -> dict[str, str]:
        return {"access_token": self._token, "appsecret_proof": self._proof}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST one Send API body; Graph's answer, or ``MessengerSendError``."""
        try:
            async with self._client().post(
                f"{self.base_url}/me/messages",
                params=self._auth(),
                json=body,
                timeout=self._send_timeout,
            ) as answer:
                status = answer.status
                try:
                    data = await answer.json(content_type=None)
                except ValueError:
                    data = None
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise MessengerSendError(f"Send API unreachable: {type(error).__name__}") from error
        if 200 <= status < 300 and isinstance(data, dict):
            return data
        detail = data.get("error") if isinstance(data, dict) else None
        detail = detail if isinstance(detail, dict) else {}
        code = detail.get("code") if isinstance(detail.get("code"), int) else None
        raise MessengerSendError(
            f"Send API answered {status}: {detail.get('message', 'no error message')} "
            f"(fbtrace_id {detail.get('fbtrace_id', '-')})",
            status=status,
            code=code,
        )

    async def locale(self, psid: str) -> str | None:
        """The customer's Messenger locale (``"de_DE"``), asked once per PSID and cached."""
        cached = self._locales.get(psid, _MISSING)
        if cached is not _MISSING:
            return cached if isinstance(cached, str) else None
        value: str | None = None
        try:
            async with self._client().get(
                f"{self.base_url}/{psid}",
                params={"fields": PROFILE_FIELDS, **self._auth()},
                timeout=self._profile_timeout,
            ) as answer:
                if answer.status == 200:
                    data = await answer.json(content_type=None)
                    found = data.get("locale") if isinstance(data, dict) else None
                    if isinstance(found, str) and 0 < len(found) <= 20:
                        value = found
                else:
                    logger.info("Messenger profile look-up answered %s", answer.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.info("Messenger profile look-up failed: %s", type(error).__name__)
        if value is None:
            self._locales.put(psid, None, ttl=self._profile_failure_ttl)
        else:
            self._locales.put(psid, value)
        return value


# --------------------------------------------------------------------------------------------
# Output


def _message_window(last_inbound_at: datetime | float, now: datetime | None) -> dict[str, str]:
    if isinstance(last_inbound_at, int | float):
        last = datetime.fromtimestamp(last_inbound_at, tz=timezone.utc)
    elif last_inbound_at.tzinfo is None:
        last = last_inbound_at.replace(tzinfo=timezone.utc)
    else:
        last = last_inbound_at
    elapsed = (now or datetime.now(timezone.utc)) - last
    if elapsed < RESPONSE_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if elapsed < HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    raise OutsideMessagingWindow(
        f"the customer last wrote {elapsed.days} days ago; Messenger allows no reply after 7"
    )


def quick_replies_from_buttons(buttons: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Rasa buttons as Messenger text quick replies, within the Send API's limits.

    Quick replies rather than a button template because the template allows only three buttons
    (Rasa's connector then silently drops them all) while menus here can have more. Titles are
    shortened to 20 characters; a payload over 1000 characters would be cut into a different
    intent, so such a button is dropped instead; beyond 13 the rest are dropped. Link buttons
    cannot be quick replies and are handled by the caller.
    """
    replies: list[dict[str, str]] = []
    for button in buttons:
        title = str(button.get("title") or "").strip()
        payload = str(button.get("payload") or title)
        if not title or button.get("url"):
            continue
        if len(payload) > MAX_QUICK_REPLY_PAYLOAD:
            logger.warning("Messenger quick reply %r dropped: payload too long", title)
            continue
        if len(title) > MAX_QUICK_REPLY_TITLE:
            title = title[: MAX_QUICK_REPLY_TITLE - 1].rstrip() + "…"
        replies.append({"content_type": "text", "title": title, "payload": payload})
    if len(replies) > MAX_QUICK_REPLIES:
        logger.warning(
            "Messenger allows %d quick replies; %d dropped",
            MAX_QUICK_REPLIES,
            len(replies) - MAX_QUICK_REPLIES,
        )
    return replies[:MAX_QUICK_REPLIES]


class MessengerOutput(OutputChannel):
    """Sends Rasa's replies through the Send API without blocking the event loop.

    A failed send is logged, not raised: Rasa sends replies while handling the turn, and an
    exception there would abort the turn before the tracker is saved, losing the conversation
    state over a delivery problem. ``send_agent_text`` (for people, not the bot) does raise, so
    an agent console can show that the reply did not arrive.
    """

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def __init__(self, graph: GraphClient) -> None:
        super().__init__()
        self.graph = graph

    async def _deliver(self, recipient_id: str, message: dict[str, Any]) -> None:
        body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": message}
        try:
            await self.graph.send(body)
        except MessengerSendError as error:
            logger.error("Messenger reply to a customer was not delivered: %s", error)

    async def _send_texts(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, str]] | None = None
    ) -> None:
        parts = split_text(text)
        if not parts:
            if quick_replies:
                logger.warning(
                    "Messenger quick replies need a text; %d dropped", len(quick_replies)
                )
            return
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if quick_replies and index == len(parts) - 1:
                message["quick_replies"] = quick_replies
            await self._deliver(recipient_id, message)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self._send_texts(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        links = [b for b in buttons if b.get("url") and b.get("title")]
        if links:  # quick replies cannot open a URL; keep the link visible instead of losing it
            text = "\n".join([text, *(f"{b['title']}: {b['url']}" for b in links)])
        await self._send_texts(recipient_id, text, quick_replies_from_buttons(buttons))

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        attachment = {"type": "image", "payload": {"url": image, "is_reusable": True}}
        await self._deliver(recipient_id, {"attachment": attachment})

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        """A Messenger attachment object passes through; anything else is shown as text."""
        if isinstance(attachment, dict) and "type" in attachment and "payload" in attachment:
            await self._deliver(recipient_id, {"attachment": attachment})
        else:
            await self.send_text_message(recipient_id, str(attachment))

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        cards = []
        for element in elements:
            card = dict(element)
            if isinstance(card.get("buttons"), list):
                card["buttons"] = [{"type": "postback", **button} for button in card["buttons"]]
            cards.append(card)
        template = {"template_type": "generic", "elements": cards}
        await self._deliver(recipient_id, {"attachment": {"type": "template", "payload": template}})

    async def send_custom_json(self, recipient_id: str, json_message: Any, **kwargs: Any) -> None:
        """``custom`` is a Messenger ``message`` object, or a whole Send API body (list: several).

        A whole body (recognised by ``message``, ``sender_action`` or ``messaging_type``) is
        sent as given, with the recipient filled in when absent; that is how a response can use
        templates or tags this class does not model.
        """
        for item in json_message if isinstance(json_message, list) else [json_message]:
            if not isinstance(item, dict):
                logger.warning("Messenger custom payload ignored: not an object")
                continue
            if {"message", "sender_action", "messaging_type"} & item.keys():
                body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", **item}
                if "sender_action" in body:
                    body.pop("messaging_type")
                try:
                    await self.graph.send(body)
                except MessengerSendError as error:
                    logger.error("Messenger custom payload was not delivered: %s", error)
            else:
                await self._deliver(recipient_id, item)

    async def send_agent_text(
        self,
        recipient: str,
        text: str,
        last_inbound_at: datetime | float,
        *,
        now: datetime | None = None,
    ) -> list[str]:
        """Send a human agent's reply, tagged ``HUMAN_AGENT`` once the 24-hour window closed.

        Messenger lets a business answer freely for 24 hours after the customer's last
        message; a *person* may answer for 7 days with the ``HUMAN_AGENT`` tag (the app needs
        Meta's Human Agent permission). ``last_inbound_at`` is the customer's last message
        (aware datetime, naive = UTC, or epoch seconds as in Rasa's tracker events).

        Returns Graph's message ids. Raises ``OutsideMessagingWindow`` after 7 days and
        ``MessengerSendError`` when Meta refuses, so the agent knows the reply did not arrive.
        """
        window = _message_window(last_inbound_at, now)
        sent: list[str] = []
        for part in split_text(text):
            body = {"recipient": {"id": recipient}, **window, "message": {"text": part}}
            answer = await self.graph.send(body)
            if isinstance(answer.get("message_id"), str):
                sent.append(answer["message_id"])
        return sent


# --------------------------------------------------------------------------------------------
# Input


@dataclass
class _SenderLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class MessengerInput(InputChannel):
    """Messenger webhook: verified, bounded, acknowledged at once, processed in the background."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> MessengerInput:
        if credentials is None or not credentials:
            return cls.raise_missing_credentials_exception()
        missing = [
            key
            for key in ("verify", "secret", "page-access-token")
            if not str(credentials.get(key) or "").strip()
        ]
        if missing:
            # An empty secret would make every signature "valid" for anyone who knows that.
            raise MessengerError(f"Messenger credentials lack {', '.join(missing)}")
        return cls(
            verify_token=str(credentials["verify"]),
            app_secret=str(credentials["secret"]),
            page_access_token=str(credentials["page-access-token"]),
            graph_url=str(credentials.get("graph_url") or DEFAULT_GRAPH_URL),
            api_version=str(credentials.get("api_version") or DEFAULT_API_VERSION),
        )

    def __init__(
        self,
        verify_token: str,
        app_secret: str,
        page_access_token: str,
        graph_url: str = DEFAULT_GRAPH_URL,
        api_version: str = DEFAULT_API_VERSION,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        dedupe_ttl: float = 24 * 3600.0,
        dedupe_size: int = 50_000,
        graph: GraphClient | None = None,
    ) -> None:
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.max_body_bytes = max_body_bytes
        self.graph = graph or GraphClient(page_access_token, app_secret, graph_url, api_version)
        self._seen = ExpiringLru(dedupe_ttl, dedupe_size)
        self._tasks: set[asyncio.Task[None]] = set()
        self._senders: dict[str, _SenderLock] = {}

    def get_output_channel(self) -> OutputChannel:
        return MessengerOutput(self.graph)

    # -- background work ----------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        # asyncio keeps only weak references to tasks: without this set a running task can be
        # garbage-collected mid-conversation.
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("Messenger webhook processing failed", exc_info=task.exception())

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for webhooks being processed (tests; shutdown, so no accepted message is lost)."""
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    @asynccontextmanager
    async def _turn(self, psid: str) -> AsyncIterator[None]:
        """One customer's messages one after another, in arrival order (asyncio locks are FIFO).

        Rasa locks per conversation too, but only once ``handle_message`` runs; the profile
        look-up before it could otherwise let a later message overtake an earlier one.
        """
        sender = self._senders.setdefault(psid, _SenderLock())
        sender.users += 1
        try:
            async with sender.lock:
                yield
        finally:
            sender.users -= 1
            if sender.users == 0:
                del self._senders[psid]

    async def _process(
        self,
        events: list[MessengerEvent],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        by_sender: dict[str, list[MessengerEvent]] = {}
        for event in events:
            by_sender.setdefault(event.psid, []).append(event)
        await asyncio.gather(
            *(
                self._process_sender(psid, batch, on_new_message)
                for psid, batch in by_sender.items()
            )
        )

    async def _process_sender(
        self,
        psid: str,
        events: list[MessengerEvent],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        async with self._turn(psid):
            locale = await self.graph.locale(psid)
            for event in events:
                metadata: dict[str, Any] = {"channel": CHANNEL_NAME, "psid": psid, "mid": event.mid}
                if locale:
                    metadata["locale"] = locale
                if event.attachments:
                    metadata["attachments"] = list(event.attachments)
                message = UserMessage(
                    event.text,
                    MessengerOutput(self.graph),
                    psid,
                    input_channel=CHANNEL_NAME,
                    message_id=event.mid,
                    metadata=metadata,
                )
                try:
                    await on_new_message(message)
                except Exception:  # one failing message must not drop the customer's next ones
                    logger.exception("Rasa failed to handle a Messenger message")

    # -- HTTP -----------------------------------------------------------------------------------

    async def _read_body(self, request: Request) -> bytes | None:
        """The raw body, or ``None`` once it exceeds the limit (without buffering the rest)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        if request.stream is None:  # not streamed (e.g. mounted without stream=True)
            return request.body if len(request.body) <= self.max_body_bytes else None
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = await request.stream.read()
            if chunk is None:
                break
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("borderless_messenger_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            mode = request.args.get("hub.mode")
            token = request.args.get("hub.verify_token") or ""
            challenge = request.args.get("hub.challenge") or ""
            if mode == "subscribe" and hmac.compare_digest(
                token.encode(), self.verify_token.encode()
            ):
                return response.text(challenge)
            logger.warning("Messenger webhook verification refused: wrong mode or verify token")
            return response.json({"error": "verification failed"}, status=403)

        @webhook.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            body = await self._read_body(request)
            if body is None:
                return response.json({"error": "body too large"}, status=413)
            if not verify_signature(self.app_secret, body, request.headers.get(SIGNATURE_HEADER)):
                logger.warning("Messenger webhook refused: missing or wrong %s", SIGNATURE_HEADER)
                return response.json({"error": "invalid signature"}, status=403)
            try:
                events = parse_webhook(json.loads(body))
            except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
                problem = str(error) if isinstance(error, WebhookPayloadError) else "invalid JSON"
                return response.json({"error": problem}, status=400)
            fresh = [event for event in events if self._seen.add_if_new(event.dedupe_key)]
            if len(fresh) < len(events):
                logger.info("Messenger re-delivery ignored (%d)", len(events) - len(fresh))
            if fresh:
                self._spawn(self._process(fresh, on_new_message))
            return response.text("EVENT_RECEIVED")

        @webhook.listener("before_server_stop")
        async def finish(app: Any, loop: Any) -> None:
            await self.drain()

        @webhook.listener("after_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await self.graph.close()

        return webhook
