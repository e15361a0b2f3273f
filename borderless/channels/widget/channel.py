"""The web widget's Rasa input channel: Rasa's ``socketio`` connector, with its holes closed.

The widget (``static/widget.js``) speaks to Rasa's socket.io protocol exactly as Rasa's own
``SocketIOInput`` expects (``session_request`` / ``session_confirm``, ``user_uttered`` /
``bot_uttered``, rooms per session), and the channel keeps Rasa's name ``socketio``, so the
agent console's replies (``output_channel=socketio`` or ``latest``) reach the widget through
Rasa's :class:`rasa.core.channels.socketio.SocketIOOutput` (as :class:`WebWidgetOutput`, which
only fixes custom payloads). What the built-in connector gets wrong for a public web page, and
this one does not:

* **Any session id.** Rasa lets the browser pick its ``session_id`` and uses it as the
  conversation id. A visitor could pick a WhatsApp customer's phone number (the WhatsApp
  channel's conversation id) and continue that customer's verified conversation, or join the
  room and read the replies. Here a session id is 32 lowercase hex digits (a random UUID, which
  no other channel's ids look like); anything else gets a fresh one.
* **Any metadata.** Rasa passes the client's ``customData`` through as message metadata, and the
  order form trusts ``metadata.phone`` (set by the WhatsApp channels from the signed webhook)
  as a verified contact: a visitor could claim any phone number. Here only the language hint
  (``language`` or ``locale``, normalized to a supported language) gets through.
* **Bad input.** A message that is not an object, a text that is not a string or is very long,
  is dropped or clipped with a log line, never an exception in the event handler.
* **Floods.** More than ``max_messages_per_minute`` (30) from one session or socket are
  dropped: a public page must not keep the NLU and the action server busy.
* **Custom payloads.** Rasa's ``SocketIOOutput.send_custom_json`` passes the payload's keys to
  ``AsyncServer.emit`` as keyword arguments, so any real payload raises. Here it reaches the
  widget as ``bot_uttered`` ``{"custom": …, "language": …}``: that is how the end of a
  conversation asks for a rating.

And it takes the customer's rating (CSAT): a ``csat`` event ``{"score": 1..5}`` with a
Socket.IO acknowledgement, recorded for the session *this socket* asked for with
``session_request`` (never a session id sent along with the rating), as
``SlotSet("csat", score)`` in the tracker store (:mod:`borderless.channels.widget.ratings`).
The acknowledgement is ``{"ok": true}`` or ``{"ok": false, "error": <code>}``.

It also serves the widget's own files (``/webhooks/socketio/widget.js`` and ``widget.css``),
so a shop page needs one ``<script>`` tag pointing at the Rasa server it talks to.

``credentials.yml``::

    borderless.channels.widget.channel.WebWidgetInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      metadata_key: customData

(Use this block *instead of* ``socketio:``: both would claim ``/webhooks/socketio``.)
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from borderless.channels.widget import STATIC_DIR
from borderless.channels.widget.ratings import (
    INVALID_SCORE,
    NO_SESSION,
    OK,
    TOO_MANY,
    rating_score,
    record_rating,
)
from borderless.i18n.language import normalize_locale

logger = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
# Longer than any real chat message; a pasted novel is clipped rather than sent to the NLU.
MAX_MESSAGE_CHARS = 2000
# Per session (and per socket): a person types far fewer; a script is cut off.
MAX_MESSAGES_PER_MINUTE = 30
HINT_KEYS = ("language", "locale")
STATIC_FILES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
}


class RateLimit:
    """At most ``per_minute`` messages per key in any 60 seconds: a public page's socket must
    not be able to keep the NLU and the action server busy. Bounded memory (oldest keys go)."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        maxsize: int = 100_000,
    ) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.maxsize = maxsize
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        now = self.clock()
        hits = self._hits.pop(key, None) or deque()
        while hits and now - hits[0] >= 60:
            hits.popleft()
        allowed = len(hits) < self.per_minute
        if allowed:
            hits.append(now)
        self._hits[key] = hits
        while len(self._hits) > self.maxsize:
            self._hits.popitem(last=False)
        return allowed


def valid_session_id(value: Any) -> str | None:
    """``value`` if it is a widget session id (32 lowercase hex digits), else ``None``."""
    return value if isinstance(value, str) and SESSION_ID.match(value) else None


def new_session_id() -> str:
    return uuid.uuid4().hex


def language_hint(metadata: Any) -> dict[str, str]:
    """The only metadata a browser may set: ``{"language": <supported code>}`` or nothing.

    Accepts the metadata as an object or as a JSON string (Rasa's connector allows both)."""
    if isinstance(metadata, str):
        import json

        try:
            metadata = json.loads(metadata)
        except ValueError:
            return {}
    if not isinstance(metadata, dict):
        return {}
    for key in HINT_KEYS:
        language = normalize_locale(metadata.get(key))
        if language is not None:
            return {"language": language}
    return {}


def message_text(data: Any) -> str | None:
    """The text of a ``user_uttered`` event, clipped; ``None`` if there is none to send."""
    if not isinstance(data, dict):
        return None
    text = data.get("message")
    if not isinstance(text, str) or not text.strip():
        return None
    return text[:MAX_MESSAGE_CHARS]


class WebWidgetOutput(SocketIOOutput):
    """Rasa's socket.io output, with custom payloads that work (see the module docstring)."""

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        message: dict[str, Any] = {"custom": json_message}
        language = kwargs.get("language")
        if isinstance(language, str) and language:
            # The conversation's language (CatalogNLG): the rating is asked in it.
            message["language"] = language
        await self._send_message(recipient_id, message)


class WebWidgetInput(SocketIOInput):
    """Rasa's socket.io channel for the Borderless web widget (see the module docstring)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            # A reload must find the conversation again: on unless switched off explicitly.
            bool(credentials.get("session_persistence", True)),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "customData"),
            max_messages_per_minute=int(
                credentials.get("max_messages_per_minute") or MAX_MESSAGES_PER_MINUTE
            ),
        )

    def __init__(
        self, *args: Any, max_messages_per_minute: int = MAX_MESSAGES_PER_MINUTE, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rate_limit = RateLimit(max_messages_per_minute)
        # The session each connected socket asked for with session_request: ratings go there.
        self.sessions: dict[str, str] = {}
        self.app: Any = None

    def get_output_channel(self) -> OutputChannel | None:
        """What Rasa's HTTP API sends through (``output_channel=socketio``): agent replies and
        the bot's answer to the console's hand-back."""
        if self.sio is None:
            return super().get_output_channel()
        return WebWidgetOutput(self.sio, self.bot_message_evt)

    def agent(self) -> Any:
        """The running agent, looked up at each use (a model swap may replace it)."""
        return getattr(getattr(self.app, "ctx", None), "agent", None)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # As in Rasa: no origin check (the widget is embedded on the shop's own domain, and the
        # socket carries no cookies or credentials a foreign page could abuse).
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            self.app = app

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @blueprint.route("/<name:str>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            if not name:  # Sanic routes "/webhooks/socketio/" here, not to health
                return await health(request)
            content_type = STATIC_FILES.get(name)
            if content_type is None:
                return response.json({"error": "not_found"}, status=404)
            return await response.file(
                STATIC_DIR / name,
                mime_type=content_type,
                # <script src>/<link href> need no CORS header; Rasa's --cors adds one anyway.
                headers={"Cache-Control": "no-cache"},
            )

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            if not self.jwt_key:
                return True
            import rasa.core.channels.channel

            token = auth.get("token") if isinstance(auth, dict) else None
            if not token:
                return False
            payload = rasa.core.channels.channel.decode_bearer_token(
                token, self.jwt_key, self.jwt_algorithm
            )
            return bool(payload)

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            session_id = valid_session_id(asked) or new_session_id()
            if asked and asked != session_id:
                logger.info("Widget asked for a malformed session id; gave it a new one.")
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=namespace)
                self.sessions[sid] = session_id
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)

        @sio.on("disconnect", namespace=namespace)
        async def disconnect(sid: str, *_: Any) -> None:
            self.sessions.pop(sid, None)

        @sio.on("csat", namespace=namespace)
        async def rate(sid: str, data: Any = None) -> dict[str, Any]:
            # Only the session this socket asked for: a session id sent along is ignored.
            session_id = self.sessions.get(sid) if self.session_persistence else sid
            if session_id is None:
                outcome = NO_SESSION
            elif not self.rate_limit.allow(f"csat:{sid}"):
                outcome = TOO_MANY
            else:
                score = rating_score(data)
                if score is None:
                    outcome = INVALID_SCORE
                else:
                    outcome = await record_rating(self.agent(), session_id, score, self.name())
            if outcome != OK:
                logger.info("Widget rating refused: %s.", outcome)
                return {"ok": False, "error": outcome}
            return {"ok": True}

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any = None) -> None:
            text = message_text(data)
            if text is None:
                logger.info("Widget message without text ignored.")
                return
            assert isinstance(data, dict)  # message_text checked it
            if self.session_persistence:
                sender_id = valid_session_id(data.get("session_id"))
                if sender_id is None:
                    logger.info("Widget message without a valid session id ignored.")
                    return
                # Rejoin in case this socket skipped session_request (e.g. after a reconnect).
                await sio.enter_room(sid, sender_id, namespace=namespace)
            else:
                sender_id = sid
            if not (self.rate_limit.allow(sender_id) and self.rate_limit.allow(sid)):
                logger.warning("Widget session over %d messages a minute: message dropped.",
                               self.rate_limit.per_minute)  # fmt: skip
                return
            message = UserMessage(
                text,
                WebWidgetOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=language_hint(data.get(self.metadata_key)),
            )
            await on_new_message(message)

        return blueprint
