"""Rasa channel for the WhatsApp Business Cloud API (Meta Graph), without a middleman.

Rasa OSS 3.6 has no WhatsApp Cloud connector, and the nearest one (``facebook.py``) checks only
the old SHA-1 signature with ``==`` and answers 200 to forged requests. This one:

* answers Meta's ``GET`` handshake (``hub.verify_token`` → echo ``hub.challenge``, else 403);
* checks ``X-Hub-Signature-256`` over the raw bytes, in constant time, before parsing anything;
* refuses bodies over 256 KiB (413) while streaming them, malformed payloads with a 400 that
  says what is wrong, and never answers 500 for anything a sender can put in a body;
* acknowledges at once and runs the bot turn in the background (per customer, in order),
  because Meta retries slow webhooks and a retry would repeat the turn; redeliveries of one
  ``wamid`` are acknowledged but processed once;
* replies through the Graph ``/messages`` endpoint: text (split above 4096 characters), reply
  buttons (≤ 3) or a list (4-10 options), images, documents and custom JSON, and sends the
  configured template instead while the customer's 24-hour window is closed.

credentials.yml (secrets as ``${VAR}``)::

    borderless.channels.whatsapp.WhatsAppCloudInput:
      verify_token: ${WHATSAPP_VERIFY_TOKEN}        # what you typed in Meta's webhook setup
      app_secret: ${WHATSAPP_APP_SECRET}            # signs every webhook POST
      access_token: ${WHATSAPP_ACCESS_TOKEN}        # system-user token for sending
      phone_number_id: ${WHATSAPP_PHONE_NUMBER_ID}  # the business number we send from
      api_version: v21.0                            # optional
      graph_url: https://graph.facebook.com         # optional; tests point it at a local server
      template_name: ${WHATSAPP_TEMPLATE_NAME}      # optional: approved utility template used
      template_language: en                         #   outside the 24-hour window
      template_languages: {pt: pt_PT}               # optional: the template in the
                                                    #   conversation's language (defaults below)
      list_button_label: Menu                       # optional: opens a list of 4-10 options
      dedupe_ttl_seconds: 86400                     # optional
      max_pending: 1000                             # optional: above it the webhook answers 503

The webhook URL to give Meta is ``https://<host>/webhooks/whatsapp/webhook``.

What Rasa receives. The sender id is the customer's ``wa_id`` (digits), which is also what we
send to. Text messages give their text; a tap on a reply button or list row gives the option's
id, which is the Rasa button payload we sent (so ``/intent{...}`` payloads work); a template
quick reply gives its payload. Images, audio, locations and other kinds the NLU cannot read
arrive with empty text and ``metadata.unsupported_type`` (plus ``media``/``location``/
``caption`` details), so a rule can answer them; reactions and system notices are not user
turns and are dropped. Metadata always holds ``channel: whatsapp``, ``phone`` (E.164),
``wa_id``, ``wamid``, ``profile_name`` and ``country_hint`` (ISO code from the calling code).
There is deliberately no ``language``: WhatsApp does not tell us the user's locale, and the
country of a phone number does not determine the language (see ``borderless.nlu.language``,
which treats metadata ``language`` as the customer's own setting).

Scale-out: de-duplication, the 24-hour window state and long-payload aliases live in this
process. With more than one Rasa instance pass a shared ``window_store`` and put the seen ids in
Redis (see :mod:`borderless.channels._common`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sanic.response import text as text_response

from borderless.channels._common import (
    SERVICE_WINDOW_SECONDS,
    ButtonOption,
    ConversationLanguages,
    HttpSender,
    PayloadAliases,
    SendResult,
    ServiceWindow,
    WhatsAppWebhookInput,
    button_option,
    clip,
    country_hint,
    error_response,
    language_map,
    mask_phone,
    split_text,
    without_none,
)

logger = logging.getLogger(__name__)

WEBHOOK_OBJECT = "whatsapp_business_account"

# Graph API limits for interactive messages (Meta's interactive message reference).
TEXT_LIMIT = 4096
BODY_LIMIT = 1024
MAX_REPLY_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_ID_LIMIT = 256
MAX_LIST_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
LIST_BUTTON_LIMIT = 20
EMPTY_BODY = "👇"  # WhatsApp requires a body for buttons; this needs no translation

OUTSIDE_WINDOW_ERROR = 131047  # "Re-engagement message": more than 24 h since the user wrote
TEMPLATE_MISSING_ERROR = 132001  # "Template name does not exist in the translation"

# Meta's template language codes for our languages (a template is approved per language; a
# language the shop has not translated it into falls back to ``template_language``).
DEFAULT_TEMPLATE_LANGUAGES = {
    "de": "de", "fr": "fr", "es": "es", "it": "it", "pt": "pt_BR", "ja": "ja", "zh": "zh_CN",
    "ar": "ar",
}  # fmt: skip

MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
IGNORED_TYPES = frozenset({"reaction", "system"})
"""Not something the customer said to us: an emoji on an earlier message, a number change."""


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class WhatsAppCloudConfig:
    verify_token: str
    app_secret: str
    access_token: str
    phone_number_id: str
    api_version: str = "v21.0"
    graph_url: str = "https://graph.facebook.com"
    template_name: str | None = None
    template_language: str = "en"
    # Conversation language → the template's language code at Meta, over the defaults.
    template_languages: Mapping[str, str] = field(default_factory=dict)
    list_button_label: str = "Menu"
    dedupe_ttl_seconds: float = SERVICE_WINDOW_SECONDS
    max_pending: int = 1000

    REQUIRED: ClassVar[tuple[str, ...]] = (
        "verify_token",
        "app_secret",
        "access_token",
        "phone_number_id",
    )

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> WhatsAppCloudConfig:
        """Reads the credentials.yml block; an empty secret is an error, not a default.

        An empty ``verify_token`` or ``app_secret`` would let anyone pass the checks, so a
        missing ``${VAR}`` stops Rasa at start-up instead.
        """
        missing = [key for key in cls.REQUIRED if not _text(credentials.get(key))]
        if missing:
            raise RasaException(
                f"WhatsAppCloudInput needs {', '.join(missing)} in credentials.yml "
                "(see borderless/channels/whatsapp.py)"
            )
        version = _text(credentials.get("api_version")) or cls.api_version
        try:
            return cls(
                verify_token=_text(credentials["verify_token"]),
                app_secret=_text(credentials["app_secret"]),
                access_token=_text(credentials["access_token"]),
                phone_number_id=_text(credentials["phone_number_id"]),
                api_version=version if version.startswith("v") else f"v{version}",
                graph_url=(_text(credentials.get("graph_url")) or cls.graph_url).rstrip("/"),
                template_name=_text(credentials.get("template_name")) or None,
                template_language=_text(credentials.get("template_language"))
                or cls.template_language,
                template_languages={
                    **DEFAULT_TEMPLATE_LANGUAGES,
                    **language_map(credentials.get("template_languages"), "template_languages"),
                },
                list_button_label=clip(
                    _text(credentials.get("list_button_label")) or cls.list_button_label,
                    LIST_BUTTON_LIMIT,
                ),
                dedupe_ttl_seconds=float(
                    credentials.get("dedupe_ttl_seconds") or cls.dedupe_ttl_seconds
                ),
                max_pending=int(credentials.get("max_pending") or cls.max_pending),
            )
        except (TypeError, ValueError) as exc:
            raise RasaException(f"WhatsAppCloudInput: invalid credentials value: {exc}") from None

    @property
    def messages_url(self) -> str:
        return f"{self.graph_url}/{self.api_version}/{self.phone_number_id}/messages"

    def template_language_for(self, language: str | None) -> str:
        """The template's language for a conversation in ``language``; ``template_language``
        (which names the English variant, e.g. ``en_US``) for English and anything unknown."""
        if language and language != "en":
            return self.template_languages.get(language, self.template_language)
        return self.template_languages.get("en", self.template_language)


def _text(value: Any) -> str:
    """YAML turns a numeric phone_number_id into an int; every setting is used as text."""
    return "" if value is None else str(value).strip()


# --------------------------------------------------------------------------------------------
# Inbound: signature and payload


def verify_signature(body: bytes, header: str | None, app_secret: str) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body, app secret)>``, compared in
    constant time (as bytes: ``compare_digest`` refuses non-ASCII str, which a forger controls).
    """
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    given = header.removeprefix("sha256=").strip().lower()
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8"))


class PayloadError(ValueError):
    """The body is signed but not a webhook we understand; the message says where."""


@dataclass(frozen=True)
class InboundMessage:
    wa_id: str
    message_id: str
    text: str
    timestamp: float | None
    metadata: dict[str, Any]


def parse_webhook(payload: Any, aliases: PayloadAliases | None = None) -> list[InboundMessage]:
    """The user messages in a webhook body, in order; delivery statuses and other change
    fields yield nothing. Raises :class:`PayloadError` for anything not shaped like Meta's
    documented payload, checking types as it goes so no input can raise anything else.
    """
    root = _object(payload, "body")
    kind = root.get("object")
    if kind != WEBHOOK_OBJECT:
        raise PayloadError(f"'object' must be {WEBHOOK_OBJECT!r}, got {kind!r}")
    found: list[InboundMessage] = []
    for e, raw_entry in enumerate(_array(root.get("entry"), "entry")):
        entry = _object(raw_entry, f"entry[{e}]")
        for c, raw_change in enumerate(_array(entry.get("changes"), f"entry[{e}].changes")):
            where = f"entry[{e}].changes[{c}]"
            change = _object(raw_change, where)
            if change.get("field", "messages") != "messages":
                continue  # account, template or quality updates: not conversation
            value = _object(change.get("value"), f"{where}.value")
            profiles = _profiles(value.get("contacts"))
            business = value.get("metadata")
            business_number_id = (
                business.get("phone_number_id") if isinstance(business, dict) else None
            )
            messages = _array(value.get("messages", []), f"{where}.value.messages")
            for m, raw_message in enumerate(messages):
                message = _parse_message(
                    raw_message,
                    f"{where}.value.messages[{m}]",
                    profiles,
                    business_number_id,
                    aliases,
                )
                if message is not None:
                    found.append(message)
    return found


def _parse_message(
    raw: Any,
    where: str,
    profiles: dict[str, str],
    business_number_id: Any,
    aliases: PayloadAliases | None,
) -> InboundMessage | None:
    message = _object(raw, where)
    wa_id = _string(message.get("from"), f"{where}.from")
    message_id = _string(message.get("id"), f"{where}.id")
    kind = _string(message.get("type"), f"{where}.type")
    if kind in IGNORED_TYPES:
        return None
    timestamp = _timestamp(message.get("timestamp"))
    context = message.get("context")
    metadata: dict[str, Any] = without_none(
        {
            "channel": "whatsapp",
            "phone": f"+{wa_id}" if wa_id.isdigit() else None,
            "wa_id": wa_id,
            "wamid": message_id,
            "profile_name": profiles.get(wa_id),
            "country_hint": country_hint(wa_id),
            "timestamp": int(timestamp) if timestamp is not None else None,
            "business_phone_number_id": str(business_number_id) if business_number_id else None,
            "in_reply_to": context.get("id") if isinstance(context, dict) else None,
        }
    )
    text = _content(kind, message, where, metadata, aliases)
    return InboundMessage(wa_id, message_id, text, timestamp, metadata)


def _content(
    kind: str,
    message: dict[str, Any],
    where: str,
    metadata: dict[str, Any],
    aliases: PayloadAliases | None,
) -> str:
    """The text for Rasa; details of kinds the NLU cannot read go into ``metadata``."""
    if kind == "text":
        body = _object(message.get("text"), f"{where}.text").get("body")
        if not isinstance(body, str):
            raise PayloadError(f"{where}.text.body must be a string")
        return body
    if kind == "button":  # quick-reply button of a template we sent
        button = _object(message.get("button"), f"{where}.button")
        payload = button.get("payload") or button.get("text")
        if not isinstance(payload, str):
            raise PayloadError(f"{where}.button needs a payload or text string")
        return payload
    if kind == "interactive":
        interactive = _object(message.get("interactive"), f"{where}.interactive")
        reply_kind = interactive.get("type")
        if reply_kind in ("button_reply", "list_reply"):
            reply = _object(interactive.get(reply_kind), f"{where}.interactive.{reply_kind}")
            reply_id = _string(reply.get("id"), f"{where}.interactive.{reply_kind}.id")
            title = reply.get("title") if isinstance(reply.get("title"), str) else None
            metadata["reply"] = without_none({"id": reply_id, "title": title})
            payload = aliases.resolve(reply_id) if aliases is not None else reply_id
            return payload if payload is not None else title or ""
        kind = f"interactive.{reply_kind}"  # e.g. a Flow's nfm_reply
    metadata["unsupported_type"] = kind
    details = message.get(kind)
    if kind in MEDIA_TYPES and isinstance(details, dict):
        metadata["media"] = without_none(
            {key: details.get(key) for key in ("id", "mime_type", "sha256", "filename", "animated")}
        )
        if isinstance(details.get("caption"), str):
            metadata["caption"] = details["caption"]
    elif kind == "location" and isinstance(details, dict):
        metadata["location"] = without_none(
            {key: details.get(key) for key in ("latitude", "longitude", "name", "address")}
        )
    return ""


def _profiles(contacts: Any) -> dict[str, str]:
    """wa_id → WhatsApp profile name. Optional and display-only, so malformed entries are
    skipped rather than rejected."""
    names: dict[str, str] = {}
    if isinstance(contacts, list):
        for contact in contacts:
            if not isinstance(contact, dict):
                continue
            profile = contact.get("profile")
            name = profile.get("name") if isinstance(profile, dict) else None
            if isinstance(contact.get("wa_id"), str) and isinstance(name, str):
                names[contact["wa_id"]] = name
    return names


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object")
    return value


def _array(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(f"{where} must be a list")
    return value


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{where} must be a non-empty string")
    return value


def _timestamp(value: Any) -> float | None:
    if isinstance(value, str) and value.isdigit():
        return float(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return None


# --------------------------------------------------------------------------------------------
# Outbound


class WhatsAppCloudOutput(OutputChannel):
    """Sends bot responses through the Graph API, respecting the 24-hour window.

    Instances are cheap views on state owned by :class:`WhatsAppCloudInput` (one HTTP session,
    one window store), because Rasa asks for an output channel per message. Send failures are
    logged, not raised: an exception here would abort the Rasa turn before the tracker is saved.
    """

    def __init__(
        self,
        config: WhatsAppCloudConfig,
        sender: HttpSender,
        window: ServiceWindow,
        aliases: PayloadAliases,
        languages: ConversationLanguages | None = None,
    ) -> None:
        self.config = config
        self.sender = sender
        self.window = window
        self.aliases = aliases
        self.languages = languages if languages is not None else ConversationLanguages()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Notes the conversation language a bot response carries (for templates), then
        sends as every Rasa output channel does."""
        self.languages.note(_wa_id(recipient_id), message)
        await super().send_response(recipient_id, message)

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    async def in_service_window(self, recipient_id: str) -> bool:
        """Whether free-form messages may go to this customer now (else only a template)."""
        return await self.window.is_open(_wa_id(recipient_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, TEXT_LIMIT):
            await self._send(recipient_id, {"type": "text", "text": {"body": part}})

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """≤ 3 options as reply buttons, more as a list (WhatsApp's limits, 10 rows at most).

        The list opens with a button whose label is the response's ``metadata.list_button``
        (so it can be translated with the response) or the configured ``list_button_label``.
        """
        options = [option for option in map(button_option, buttons) if option is not None]
        parts = split_text(text or "", BODY_LIMIT)
        if not options:
            await self.send_text_message(recipient_id, text or "")
            return
        for part in parts[:-1]:  # a long text goes first; the last part carries the options
            await self._send(recipient_id, {"type": "text", "text": {"body": part}})
        body = {"text": parts[-1] if parts else EMPTY_BODY}
        if len(options) <= MAX_REPLY_BUTTONS:
            interactive = self._reply_buttons(body, options)
        else:
            label = kwargs.get("list_button")
            if not (isinstance(label, str) and label.strip()):
                label = self.config.list_button_label
            interactive = self._list(body, options, label)
        await self._send(recipient_id, {"type": "interactive", "interactive": interactive})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, {"type": "image", "image": {"link": image}})

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """As a document, rather than Rasa's default English "Attachment: <url>" text."""
        await self._send(recipient_id, {"type": "document", "document": {"link": attachment}})

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A Graph ``/messages`` body, sent as given (``to`` and ``messaging_product`` are
        filled in). A ``template`` goes out even outside the window; anything else waits for it.
        """
        message = dict(json_message)
        recipient = str(message.pop("to", recipient_id))
        await self._send(recipient, message, template=message.get("type") == "template")

    # -- internals --------------------------------------------------------------------------

    def _reply_buttons(self, body: dict[str, str], options: list[ButtonOption]) -> dict[str, Any]:
        buttons = [
            {
                "type": "reply",
                "reply": {
                    "id": self._option_id(option.payload, BUTTON_ID_LIMIT),
                    "title": clip(option.title, BUTTON_TITLE_LIMIT),
                },
            }
            for option in options
        ]
        return {"type": "button", "body": body, "action": {"buttons": buttons}}

    def _list(
        self, body: dict[str, str], options: list[ButtonOption], label: str
    ) -> dict[str, Any]:
        if len(options) > MAX_LIST_ROWS:
            logger.warning(
                "WhatsApp lists hold %d options; %d dropped",
                MAX_LIST_ROWS,
                len(options) - MAX_LIST_ROWS,
            )
        rows = [self._row(option) for option in options[:MAX_LIST_ROWS]]
        return {
            "type": "list",
            "body": body,
            "action": {"button": clip(label, LIST_BUTTON_LIMIT), "sections": [{"rows": rows}]},
        }

    def _option_id(self, payload: str, limit: int) -> str:
        return payload if len(payload) <= limit else self.aliases.alias(payload)

    def _row(self, option: ButtonOption) -> dict[str, str]:
        row = {
            "id": self._option_id(option.payload, ROW_ID_LIMIT),
            "title": clip(option.title, ROW_TITLE_LIMIT),
        }
        if len(option.title) > ROW_TITLE_LIMIT:  # the whole title still shows, underneath
            row["description"] = clip(option.title, ROW_DESCRIPTION_LIMIT)
        return row

    async def _send(
        self, recipient_id: str, message: dict[str, Any], *, template: bool = False
    ) -> None:
        to = _wa_id(recipient_id)
        kind = str(message.get("type", "message"))
        if not template and not await self.window.is_open(to):
            await self._outside_window(to, kind)
            return
        result = await self._post(to, message)
        if not template and result is not None and _error_code(result) == OUTSIDE_WINDOW_ERROR:
            await self.window.mark_closed(to)
            await self._outside_window(to, kind)

    async def _outside_window(self, to: str, kind: str) -> None:
        if not self.config.template_name:
            logger.warning(
                "WhatsApp: %s is outside the 24-hour window and no template_name is configured;"
                " %s not sent",
                mask_phone(to),
                kind,
            )
            return
        if not await self.window.claim_template(to):
            logger.info(
                "WhatsApp: %s is outside the 24-hour window and already has our template; "
                "%s withheld until they reply",
                mask_phone(to),
                kind,
            )
            return
        language = self.config.template_language_for(self.languages.get(to))
        logger.info(
            "WhatsApp: %s is outside the 24-hour window; sending template %r (%s) instead of %s",
            mask_phone(to),
            self.config.template_name,
            language,
            kind,
        )
        result = await self._post(to, self._template(language))
        fallback = self.config.template_language
        if (
            result is not None
            and _error_code(result) == TEMPLATE_MISSING_ERROR
            and language != fallback
        ):
            logger.info(
                "WhatsApp: template %r has no %s translation; sending it in %s",
                self.config.template_name,
                language,
                fallback,
            )
            await self._post(to, self._template(fallback))

    def _template(self, language: str) -> dict[str, Any]:
        template = {"name": self.config.template_name, "language": {"code": language}}
        return {"type": "template", "template": template}

    async def _post(self, to: str, message: dict[str, Any]) -> SendResult | None:
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(message)
        result = await self.sender.post(
            self.config.messages_url,
            json_body=body,
            headers={"Authorization": f"Bearer {self.config.access_token}"},
        )
        kind = message.get("type")
        if result is None:
            logger.error("WhatsApp: %s message to %s was not sent", kind, mask_phone(to))
        elif not result.ok:
            logger.error(
                "WhatsApp refused a %s message to %s: HTTP %d, code %s: %s",
                kind,
                mask_phone(to),
                result.status,
                _error_code(result),
                _error_message(result),
            )
        return result


def _wa_id(recipient_id: str) -> str:
    return recipient_id.removeprefix("whatsapp:").strip().removeprefix("+")


def _error_code(result: SendResult) -> int | None:
    error = result.body.get("error") if isinstance(result.body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, int) else None


def _error_message(result: SendResult) -> str:
    error = result.body.get("error") if isinstance(result.body, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", ""))
    return str(result.body)[:200]


# --------------------------------------------------------------------------------------------
# Input channel


class WhatsAppCloudInput(WhatsAppWebhookInput):
    """The webhook Meta calls; see the module docstring for configuration and behaviour.
    State, lifecycle and the shared routes are in :class:`WhatsAppWebhookInput`."""

    system = "WhatsApp Cloud API"
    blueprint_name = "whatsapp_cloud_webhook"
    config: WhatsAppCloudConfig

    @classmethod
    def name(cls) -> str:
        return "whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(WhatsAppCloudConfig.from_credentials(credentials or {}))

    def __init__(self, config: WhatsAppCloudConfig, **options: Any) -> None:
        super().__init__(config, **options)
        self.aliases = PayloadAliases()

    def get_output_channel(self) -> WhatsAppCloudOutput:
        return WhatsAppCloudOutput(
            self.config, self.sender, self.window, self.aliases, self.languages
        )

    def _add_routes(self, webhook: Blueprint) -> None:
        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            return self._handshake(request)

    def _handshake(self, request: Request) -> HTTPResponse:
        """Meta's subscription check: echo the challenge only to someone who knows our token."""
        mode = request.args.get("hub.mode")
        token = request.args.get("hub.verify_token") or ""
        challenge = request.args.get("hub.challenge")
        if mode != "subscribe" or not hmac.compare_digest(
            token.encode("utf-8"), self.config.verify_token.encode("utf-8")
        ):
            logger.warning("WhatsApp webhook verification refused (mode %r)", mode)
            return error_response(403, "verification failed")
        if not challenge:
            return error_response(400, "missing hub.challenge")
        return text_response(challenge, status=200, content_type="text/plain; charset=utf-8")

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        body = await self._read_body(request)
        if isinstance(body, HTTPResponse):
            return body
        signature = request.headers.get("x-hub-signature-256")
        if not verify_signature(body, signature, self.config.app_secret):
            logger.warning(
                "WhatsApp webhook rejected: %s X-Hub-Signature-256",
                "invalid" if signature else "missing",
            )
            return error_response(
                403,
                "invalid signature",
                "X-Hub-Signature-256 must be sha256=<hex HMAC-SHA256 of the body, app secret>",
            )
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError
            return error_response(400, "invalid JSON", str(exc)[:200])
        try:
            messages = parse_webhook(payload, self.aliases)
        except PayloadError as exc:
            return error_response(400, "unexpected payload", str(exc))
        return self._accept(messages, on_new_message)

    def _accept(
        self,
        messages: list[InboundMessage],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Hand the new messages to the background and answer; runs without awaiting, so the
        duplicate check and the mark cannot interleave with another delivery."""
        fresh: list[InboundMessage] = []
        ids: set[str] = set()
        for message in messages:
            if message.message_id in self.seen or message.message_id in ids:
                logger.info("WhatsApp: duplicate delivery of %s ignored", message.message_id)
                continue
            ids.add(message.message_id)
            fresh.append(message)
        if not self.dispatcher.has_room_for(len(fresh)):
            logger.error("WhatsApp: %d turns pending; asking Meta to retry later", len(fresh))
            return self._busy()
        for message in fresh:
            self.seen.add(message.message_id)
            self.dispatcher.submit(
                message.wa_id,
                functools.partial(self._process, message, on_new_message),
                f"WhatsApp message {message.message_id}",
            )
        return json_response(
            {"status": "accepted", "messages": len(fresh), "duplicates": len(messages) - len(fresh)}
        )

    async def _process(
        self, message: InboundMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        await self.window.record_inbound(message.wa_id, message.timestamp)
        await on_new_message(
            UserMessage(
                message.text,
                self.get_output_channel(),
                message.wa_id,
                input_channel=self.name(),
                message_id=message.message_id,
                metadata=message.metadata,
            )
        )
