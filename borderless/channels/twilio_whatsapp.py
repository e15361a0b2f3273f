"""Rasa channel for WhatsApp through Twilio, replacing Rasa's own ``twilio`` connector.

Rasa 3.6's ``TwilioInput`` accepts any POST (no ``X-Twilio-Signature`` check), re-raises bot
errors into the webhook (``debug_mode=True`` is hard-coded) and sends replies with the blocking
Twilio client inside the event loop. This channel:

* validates ``X-Twilio-Signature`` — base64(HMAC-SHA1(auth token, URL + every POST parameter's
  name and value, sorted by name)) — in constant time, before the message is looked at. The URL
  must be the one Twilio called: behind a proxy or TLS terminator ``request.url`` differs
  (``http://``, internal host), so set ``webhook_url`` to the exact URL in the Twilio console;
* answers at once with empty TwiML (``<Response/>``) and runs the bot turn in the background,
  in order per customer; a redelivered ``MessageSid`` is processed once;
* sends replies with aiohttp to ``POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json``;
* renders buttons as numbered options ("1. Yes, please"), because free-form WhatsApp messages
  through Twilio cannot carry interactive buttons without the Content API, and maps a reply of
  "1" (or the option's title) back to the button's payload for that customer;
* outside the 24-hour window sends the configured Content API template (``ContentSid``) once
  instead of free-form text, which Twilio would fail with error 63016.

credentials.yml (secrets as ``${VAR}``)::

    borderless.channels.twilio_whatsapp.TwilioWhatsAppInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_WHATSAPP_NUMBER}     # whatsapp:+14155238886 (prefix optional)
      webhook_url: ${TWILIO_WEBHOOK_URL}           # optional: public URL Twilio signs
      api_base: https://api.twilio.com             # optional; tests point it at a local server
      template_content_sid: ${TWILIO_TEMPLATE_SID}  # optional: HX... sent outside the window
      template_content_sids: {de: HX..., ar: HX...}  # optional: per conversation language
      dedupe_ttl_seconds: 86400                    # optional
      max_pending: 1000                            # optional

The webhook to set in Twilio ("A message comes in") is
``https://<host>/webhooks/twilio_whatsapp/webhook``.

Rasa sees the sender id ``whatsapp:+<number>`` (Twilio's ``From``, which is also where replies
go) and the same metadata as the Cloud API channel: ``channel: whatsapp``, ``provider:
twilio``, ``phone``, ``wa_id``, ``message_sid``, ``profile_name``, ``country_hint`` — and no
``language``, for the reasons given in :mod:`borderless.channels.whatsapp`. Media and locations
arrive with empty text and ``unsupported_type``; a template quick reply gives its
``ButtonPayload``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import text as text_response

from borderless.channels._common import (
    SERVICE_WINDOW_SECONDS,
    ButtonOption,
    ConversationLanguages,
    HttpSender,
    SendResult,
    ServiceWindow,
    TtlLru,
    WhatsAppWebhookInput,
    button_option,
    country_hint,
    error_response,
    language_map,
    mask_phone,
    split_text,
    without_none,
)

logger = logging.getLogger(__name__)

BODY_LIMIT = 1600  # Twilio's limit for one message body
OUTSIDE_WINDOW_ERROR = 63016
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_FORM_FIELDS = 200


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass(frozen=True)
class TwilioWhatsAppConfig:
    account_sid: str
    auth_token: str
    twilio_number: str
    webhook_url: str | None = None
    api_base: str = "https://api.twilio.com"
    template_content_sid: str | None = None
    # Conversation language → a Content API template in that language (else the one above).
    template_content_sids: Mapping[str, str] = field(default_factory=dict)
    dedupe_ttl_seconds: float = SERVICE_WINDOW_SECONDS
    max_pending: int = 1000

    REQUIRED: ClassVar[tuple[str, ...]] = ("account_sid", "auth_token", "twilio_number")

    @classmethod
    def from_credentials(cls, credentials: Mapping[str, Any]) -> TwilioWhatsAppConfig:
        """Reads the credentials.yml block; an empty auth token would make every signature
        check meaningless, so missing secrets stop Rasa at start-up."""
        missing = [key for key in cls.REQUIRED if not _text(credentials.get(key))]
        if missing:
            raise RasaException(
                f"TwilioWhatsAppInput needs {', '.join(missing)} in credentials.yml "
                "(see borderless/channels/twilio_whatsapp.py)"
            )
        try:
            return cls(
                account_sid=_text(credentials["account_sid"]),
                auth_token=_text(credentials["auth_token"]),
                twilio_number=whatsapp_address(_text(credentials["twilio_number"])),
                webhook_url=_text(credentials.get("webhook_url")) or None,
                api_base=(_text(credentials.get("api_base")) or cls.api_base).rstrip("/"),
                template_content_sid=_text(credentials.get("template_content_sid")) or None,
                template_content_sids=language_map(
                    credentials.get("template_content_sids"), "template_content_sids"
                ),
                dedupe_ttl_seconds=float(
                    credentials.get("dedupe_ttl_seconds") or cls.dedupe_ttl_seconds
                ),
                max_pending=int(credentials.get("max_pending") or cls.max_pending),
            )
        except (TypeError, ValueError) as exc:
            raise RasaException(f"TwilioWhatsAppInput: invalid credentials value: {exc}") from None

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"

    def template_for(self, language: str | None) -> str | None:
        """The Content SID to send outside the window to a conversation in ``language``."""
        if language and language in self.template_content_sids:
            return self.template_content_sids[language]
        return self.template_content_sid


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def whatsapp_address(number: str) -> str:
    """Twilio addresses WhatsApp users as ``whatsapp:+<E.164>``; SMS numbers lack the prefix."""
    number = number.strip()
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


# --------------------------------------------------------------------------------------------
# Signature


def twilio_signature(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(auth token, url + name1 + value1 + name2 + value2 ...)), parameters
    sorted by name (values of a repeated name sorted too), as Twilio's helper libraries do."""
    data = url + "".join(name + value for name, value in sorted(params))
    digest = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_twilio_signature(
    auth_token: str, url: str, params: list[tuple[str, str]], header: str | None
) -> bool:
    """Constant-time check of ``X-Twilio-Signature`` against ``url`` with and without its
    default port, because Twilio is not consistent about including ``:443``."""
    if not header:
        return False
    given = header.strip().encode("utf-8")
    matches = [
        hmac.compare_digest(twilio_signature(auth_token, candidate, params).encode(), given)
        for candidate in _url_variants(url)
    ]
    return any(matches)


def _url_variants(url: str) -> list[str]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return [url]
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    prefix = f"{userinfo}@" if userinfo else ""
    default = 443 if parts.scheme == "https" else 80
    with_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}:{port or default}"))
    without_port = urlunsplit(parts._replace(netloc=f"{prefix}{host}"))
    return list(dict.fromkeys([url, without_port, with_port]))


# --------------------------------------------------------------------------------------------
# Inbound


class FormError(ValueError):
    """The POST is not a Twilio message webhook form; the message says why."""


@dataclass(frozen=True)
class InboundMessage:
    sender: str  # whatsapp:+4915...
    message_id: str
    body: str
    button_payload: str | None
    metadata: dict[str, Any]


def parse_form(body: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise FormError("the form is not UTF-8") from None
    except ValueError as exc:  # more fields than MAX_FORM_FIELDS
        raise FormError(str(exc)) from None


def parse_message(params: list[tuple[str, str]]) -> InboundMessage:
    """The user message in a (signature-checked) webhook form."""
    form = dict(params)
    sender = form.get("From", "").strip()
    message_id = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sender:
        raise FormError("From is missing")
    if not message_id:
        raise FormError("MessageSid is missing")
    phone = sender.removeprefix("whatsapp:")
    metadata: dict[str, Any] = without_none(
        {
            "channel": "whatsapp",
            "provider": "twilio",
            "phone": phone if phone.startswith("+") else None,
            "wa_id": form.get("WaId") or None,
            "message_sid": message_id,
            "profile_name": form.get("ProfileName") or None,
            "country_hint": country_hint(phone),
            "in_reply_to": form.get("OriginalRepliedMessageSid") or None,
        }
    )
    body = form.get("Body", "")
    if form.get("Latitude") and form.get("Longitude"):
        metadata["unsupported_type"] = "location"
        metadata["location"] = without_none(
            {
                "latitude": _float(form.get("Latitude")),
                "longitude": _float(form.get("Longitude")),
                "name": form.get("Label") or None,
                "address": form.get("Address") or None,
            }
        )
        body = ""
    elif _int(form.get("NumMedia")) > 0:
        media = [
            without_none(
                {"url": form.get(f"MediaUrl{i}"), "mime_type": form.get(f"MediaContentType{i}")}
            )
            for i in range(min(_int(form.get("NumMedia")), 10))
        ]
        first_type = str(media[0].get("mime_type", "")) if media else ""
        metadata["unsupported_type"] = first_type.partition("/")[0] or "media"
        metadata["media"] = media
        if body:
            metadata["caption"] = body
        body = ""
    button_payload = form.get("ButtonPayload") or None
    return InboundMessage(sender, message_id, body, button_payload, metadata)


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


class ButtonMemory:
    """The numbered options we last showed each customer, to turn "2" back into a payload.

    Valid for the customer's next message only: whatever they answer, the menu has been
    answered, and a later "2" means two.
    """

    def __init__(self, ttl: float = SERVICE_WINDOW_SECONDS, maxsize: int = 100_000) -> None:
        self._options: TtlLru[str, list[ButtonOption]] = TtlLru(ttl, maxsize)

    def remember(self, recipient: str, options: list[ButtonOption]) -> None:
        self._options.put(recipient, options)

    def resolve(self, recipient: str, reply: str) -> str | None:
        """The payload ``reply`` picks ("1", "1.", "1)", "١" or the title), consuming the menu."""
        options = self._options.pop(recipient)
        if not options:
            return None
        answer = reply.strip().rstrip(".)").strip()
        if answer.isdecimal() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1].payload
        for option in options:
            if option.title.casefold() == reply.strip().casefold():
                return option.payload
        return None


# --------------------------------------------------------------------------------------------
# Outbound


class TwilioWhatsAppOutput(OutputChannel):
    """Sends replies through Twilio's Messages API, respecting the 24-hour window.

    Cheap per-message views on state owned by :class:`TwilioWhatsAppInput`. Failures are
    logged, not raised (an exception would abort the Rasa turn before the tracker is saved).
    """

    def __init__(
        self,
        config: TwilioWhatsAppConfig,
        sender: HttpSender,
        window: ServiceWindow,
        buttons: ButtonMemory,
        languages: ConversationLanguages | None = None,
    ) -> None:
        self.config = config
        self.sender = sender
        self.window = window
        self.buttons = buttons
        self.languages = languages if languages is not None else ConversationLanguages()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        """Notes the conversation language a bot response carries (for templates), then
        sends as every Rasa output channel does."""
        self.languages.note(whatsapp_address(recipient_id), message)
        await super().send_response(recipient_id, message)

    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    async def in_service_window(self, recipient_id: str) -> bool:
        return await self.window.is_open(whatsapp_address(recipient_id))

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_text(text, BODY_LIMIT):
            await self._send(recipient_id, [("Body", part)])

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """The text, then one numbered line per button; the numbers are remembered."""
        options = [option for option in map(button_option, buttons) if option is not None]
        lines = [f"{number}. {option.title}" for number, option in enumerate(options, 1)]
        message = "\n\n".join(part for part in (text or "", "\n".join(lines)) if part)
        sent = False
        for part in split_text(message, BODY_LIMIT):
            sent = await self._send(recipient_id, [("Body", part)])
        if sent and options:
            self.buttons.remember(whatsapp_address(recipient_id), options)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, [("MediaUrl", image)])

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        await self._send(recipient_id, [("MediaUrl", attachment)])

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Twilio Messages parameters as given (``ContentSid``, ``ContentVariables`` as an
        object or JSON text, ``MediaUrl`` as a list...). With ``ContentSid`` it is a template
        and goes out even outside the window."""
        message = dict(json_message)
        recipient = str(message.pop("To", recipient_id))
        fields: list[tuple[str, str]] = []
        for key, value in message.items():
            if isinstance(value, list):
                fields.extend((key, str(item)) for item in value)
            elif isinstance(value, dict):
                fields.append((key, json.dumps(value, ensure_ascii=False)))
            elif value is not None:
                fields.append((key, str(value)))
        await self._send(recipient, fields, template="ContentSid" in message)

    async def _send(
        self, recipient_id: str, fields: list[tuple[str, str]], *, template: bool = False
    ) -> bool:
        """Whether Twilio accepted the message."""
        to = whatsapp_address(recipient_id)
        if not template and not await self.window.is_open(to):
            await self._outside_window(to)
            return False
        result = await self._post(to, fields)
        if result is not None and result.ok:
            return True
        if not template and result is not None and _error_code(result) == OUTSIDE_WINDOW_ERROR:
            await self.window.mark_closed(to)
            await self._outside_window(to)
        return False

    async def _outside_window(self, to: str) -> None:
        sid = self.config.template_for(self.languages.get(to))
        if not sid:
            logger.warning(
                "Twilio WhatsApp: %s is outside the 24-hour window and no template_content_sid "
                "is configured; message not sent",
                mask_phone(to),
            )
        elif not await self.window.claim_template(to):
            logger.info(
                "Twilio WhatsApp: %s is outside the 24-hour window and already has our "
                "template; message withheld until they reply",
                mask_phone(to),
            )
        else:
            logger.info(
                "Twilio WhatsApp: %s is outside the 24-hour window; sending template %s",
                mask_phone(to),
                sid,
            )
            await self._post(to, [("ContentSid", sid)])

    async def _post(self, to: str, fields: list[tuple[str, str]]) -> SendResult | None:
        sender = next((value for key, value in fields if key == "From"), None)
        form = [("From", sender or self.config.twilio_number), ("To", to)]
        form.extend(field for field in fields if field[0] not in ("From", "To"))
        result = await self.sender.post(
            self.config.messages_url,
            form=form,
            auth=aiohttp.BasicAuth(self.config.account_sid, self.config.auth_token),
        )
        if result is None:
            logger.error("Twilio WhatsApp: message to %s was not sent", mask_phone(to))
        elif not result.ok:
            logger.error(
                "Twilio refused a message to %s: HTTP %d, code %s: %s",
                mask_phone(to),
                result.status,
                _error_code(result),
                result.body.get("message") if isinstance(result.body, dict) else result.body,
            )
        return result


def _error_code(result: SendResult) -> int | None:
    code = result.body.get("code") if isinstance(result.body, dict) else None
    return code if isinstance(code, int) else None


# --------------------------------------------------------------------------------------------
# Input channel


class TwilioWhatsAppInput(WhatsAppWebhookInput):
    """The webhook Twilio calls; see the module docstring for configuration and behaviour.
    State, lifecycle and the shared routes are in :class:`WhatsAppWebhookInput`."""

    system = "Twilio"
    blueprint_name = "twilio_whatsapp_webhook"
    config: TwilioWhatsAppConfig

    @classmethod
    def name(cls) -> str:
        return "twilio_whatsapp"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        return cls(TwilioWhatsAppConfig.from_credentials(credentials or {}))

    def __init__(self, config: TwilioWhatsAppConfig, **options: Any) -> None:
        super().__init__(config, **options)
        self.buttons = ButtonMemory()

    def get_output_channel(self) -> TwilioWhatsAppOutput:
        return TwilioWhatsAppOutput(
            self.config, self.sender, self.window, self.buttons, self.languages
        )

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        body = await self._read_body(request)
        if isinstance(body, HTTPResponse):
            return body
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return error_response(415, "unsupported media type", "expected a urlencoded form")
        try:
            params = parse_form(body)
        except FormError as exc:
            return error_response(400, "invalid form", str(exc))
        url = self.config.webhook_url or request.url
        if not verify_twilio_signature(
            self.config.auth_token, url, params, request.headers.get("x-twilio-signature")
        ):
            logger.warning(
                "Twilio webhook rejected: invalid or missing X-Twilio-Signature for %s "
                "(behind a proxy? set webhook_url)",
                url,
            )
            return error_response(403, "invalid signature")
        try:
            message = parse_message(params)
        except FormError as exc:
            return error_response(400, "unexpected form", str(exc))
        if message.message_id in self.seen:
            logger.info("Twilio WhatsApp: duplicate delivery of %s ignored", message.message_id)
            return _twiml()
        if not self.dispatcher.has_room_for(1):
            logger.error("Twilio WhatsApp: too many turns pending; asking Twilio to retry")
            return self._busy()
        self.seen.add(message.message_id)
        self.dispatcher.submit(
            message.sender,
            functools.partial(self._process, message, on_new_message),
            f"Twilio message {message.message_id}",
        )
        return _twiml()

    async def _process(
        self, message: InboundMessage, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Runs after the previous turn of this customer, so its numbered menu is in place."""
        sender = whatsapp_address(message.sender)
        await self.window.record_inbound(sender)
        chosen = self.buttons.resolve(sender, message.body)  # any answer consumes the menu
        text = message.button_payload or chosen or message.body
        metadata = dict(message.metadata)
        if chosen is not None and not message.button_payload:
            metadata["reply"] = {"text": message.body, "payload": chosen}
        await on_new_message(
            UserMessage(
                text,
                self.get_output_channel(),
                sender,
                input_channel=self.name(),
                message_id=message.message_id,
                metadata=metadata,
            )
        )


def _twiml() -> HTTPResponse:
    """Empty TwiML: Twilio sends nothing itself; replies go out through the REST API."""
    return text_response(EMPTY_TWIML, status=200, content_type="text/xml")
