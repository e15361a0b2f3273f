"""Chatwoot as the handoff desk (``HANDOFF_DESK=chatwoot``): its inboxes in front, Rasa as its bot.

Chatwoot owns the customer channels (web widget, WhatsApp, Messenger, e-mail) and the agents'
inbox; Borderless is connected as an *agent bot* of the inbox. Two halves:

**The bridge** (:func:`create_chatwoot_bridge`, ``python -m borderless.handoff.chatwoot``)
receives the agent-bot webhooks:

* ``message_created`` with ``message_type`` ``incoming`` in a ``pending`` conversation (the
  bot's state) goes to Rasa's REST channel as sender ``chatwoot-<conversation id>``, with the
  widget's browser language as a hint; each answer is posted back to the conversation
  (``POST /api/v1/accounts/{account}/conversations/{id}/messages``, ``api_access_token``).
  Messages in an ``open`` conversation (a person has it) are *not* forwarded: the published
  Rasa bridge answered every message and talked over the agent (chatwoot/rasa-agent-bot-demo
  issue 12). Outgoing messages (ours, the agents') and private notes are ignored, so the bot
  never answers itself.
* ``conversation_status_changed`` back to ``pending`` (the agent handed back) resumes the Rasa
  tracker and triggers ``EXTERNAL_handoff_resolved``; its answer ("anything else?") is posted
  to the conversation. ``conversation_resolved`` only resumes, so the bot answers the
  customer's next message.
* The webhook URL carries a secret (``?token=``), compared in constant time: agent-bot
  webhooks are not signed.

**The desk** (:class:`ChatwootDesk`), used by ``action_handoff`` like the console's
:class:`~borderless.handoff.desk.HandoffDesk`: routes by language and hours (for what the
customer is told), posts the summary as a private note in the agent's language, sets the
conversation's priority from the handoff rules (``POST …/toggle_priority``: urgent, high,
medium, low) and toggles it to ``open`` (``POST …/toggle_status``), which puts it in the
agents' queue.
The ticket id is the Chatwoot conversation id; "held by an agent" means status ``open``.

Every Chatwoot failure (refused, timeout, 4xx/5xx, not JSON) is a :class:`ChatwootError`; the
bridge answers Chatwoot 502 then, so Chatwoot's retry can deliver again, and never crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import itertools
import json
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as sanic_json

from borderless.handoff.desk import HandoffRequest, Handover
from borderless.handoff.rasa_api import RasaApiError, RasaHttpApi
from borderless.handoff.routing import priority, route
from borderless.handoff.summary import ConsoleCatalog, console_catalog
from borderless.handoff.teams import Team, load_teams
from borderless.handoff.triggers import HandoffRules, load_rules

logger = logging.getLogger(__name__)

SENDER_PREFIX = "chatwoot-"
RESOLVED_INTENT = "EXTERNAL_handoff_resolved"
BOT_STATUS, AGENT_STATUS = "pending", "open"
MAX_BODY_BYTES = 256 * 1024
_app_ids = itertools.count(1)


class ChatwootError(Exception):
    """Chatwoot could not be reached or refused the call; ``status`` when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def chatwoot_priority(rank: int) -> str:
    """Our queue rank (routing.priority) as Chatwoot's four levels: sensitive topics are
    ``urgent``, upset customers ``high``, VIPs ``medium``, everyone else ``low``."""
    if rank >= 400:
        return "urgent"
    if rank >= 200:
        return "high"
    if rank >= 100:
        return "medium"
    return "low"


def sender_id(conversation_id: int | str) -> str:
    return f"{SENDER_PREFIX}{conversation_id}"


def conversation_of(sender: str) -> int | None:
    """The Chatwoot conversation id of a Rasa sender id, or ``None`` if it is not one of ours."""
    rest = sender.removeprefix(SENDER_PREFIX)
    return int(rest) if sender.startswith(SENDER_PREFIX) and rest.isdigit() else None


class ChatwootApi:
    """The three application-API calls the handoff needs, over an injectable aiohttp session."""

    def __init__(
        self,
        base_url: str,
        account_id: int,
        token: str,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_id = account_id
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session

    def _url(self, conversation_id: int, path: str = "") -> str:
        return (
            f"{self.base_url}/api/v1/accounts/{self.account_id}/conversations/{conversation_id}"
            + path
        )

    async def send_message(
        self, conversation_id: int, content: str, *, private: bool = False
    ) -> dict[str, Any]:
        """Post a message as the bot (``outgoing``), or a private note only agents see."""
        body = {
            "content": content,
            "message_type": "outgoing",
            "private": private,
            "content_type": "text",
        }
        answer = await self._request("POST", self._url(conversation_id, "/messages"), body)
        if not isinstance(answer, dict) or "id" not in answer:
            raise ChatwootError("message create answered without a message id")
        return answer

    async def toggle_status(self, conversation_id: int, status: str) -> str:
        """Set ``open`` / ``pending`` / ``resolved``; returns the status Chatwoot reports."""
        answer = await self._request(
            "POST", self._url(conversation_id, "/toggle_status"), {"status": status}
        )
        payload = answer.get("payload") if isinstance(answer, dict) else None
        if not isinstance(payload, dict) or not payload.get("success"):
            raise ChatwootError(f"toggle_status to {status} was not successful: {answer!r:.200}")
        return str(payload.get("current_status") or status)

    async def set_priority(self, conversation_id: int, level: str) -> None:
        """``urgent`` / ``high`` / ``medium`` / ``low`` / ``none``: how Chatwoot sorts the inbox."""
        await self._request(
            "POST", self._url(conversation_id, "/toggle_priority"), {"priority": level}, True
        )

    async def status(self, conversation_id: int) -> str:
        answer = await self._request("GET", self._url(conversation_id))
        if not isinstance(answer, dict) or not isinstance(answer.get("status"), str):
            raise ChatwootError("conversation answered without a status")
        return str(answer["status"])

    async def _request(
        self, method: str, url: str, body: Any = None, empty_ok: bool = False
    ) -> Any:
        session = self._session or aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with session.request(
                method,
                url,
                json=body,
                headers={"api_access_token": self.token},
                timeout=self.timeout,
            ) as answer:
                if answer.status >= 400:
                    detail = (await answer.text())[:200]
                    raise ChatwootError(
                        f"Chatwoot {method} {url} answered {answer.status}: {detail}",
                        answer.status,
                    )
                text = await answer.text()
                if empty_ok and not text.strip():
                    return None
                try:
                    return json.loads(text)
                except ValueError as exc:
                    raise ChatwootError(f"Chatwoot {method} {url} answered invalid JSON") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ChatwootError(f"Chatwoot {method} {url} failed: {exc!r}") from exc
        finally:
            if self._session is None:
                await session.close()


class ChatwootDesk:
    """The handoff desk when agents work in Chatwoot; same calls as ``HandoffDesk``."""

    def __init__(
        self,
        teams: Sequence[Team],
        api: ChatwootApi,
        rules: HandoffRules | None = None,
        summaries: ConsoleCatalog | None = None,
    ) -> None:
        self.teams = tuple(teams)
        self.api = api
        self.rules = rules or HandoffRules()
        self.summaries = summaries or ConsoleCatalog({})  # no catalogs: English labels

    @classmethod
    def from_settings(
        cls,
        teams_file: Path,
        rules_file: Path | None,
        base_url: str,
        account_id: int,
        token: str,
        locales_dir: Path,
        timeout: float = 10.0,
    ) -> ChatwootDesk:
        rules = load_rules(rules_file) if rules_file is not None else None
        api = ChatwootApi(base_url, account_id, token, timeout)
        return cls(load_teams(teams_file), api, rules, console_catalog(locales_dir))

    async def hand_over_async(self, request: HandoffRequest, now: datetime) -> Handover:
        """Post the summary as a private note, then open the conversation for the agents.

        Raises :class:`ValueError` for a conversation that did not come through Chatwoot and
        :class:`ChatwootError` when Chatwoot refuses; the action then apologizes.
        """
        conversation = conversation_of(request.conversation_id)
        if conversation is None:
            raise ValueError(f"{request.conversation_id!r} is not a Chatwoot conversation")
        routing = route(request.language, now, self.teams)
        vip = self.rules.vip.reasons(
            request.order_total, request.order_currency, request.previous_orders
        )
        sensitive = request.reason.strip().lower() in self.rules.sensitive_topics
        rank = priority(request.reason, request.frustration, bool(vip), sensitive)
        summary = {**request.summary, "agent_language": routing.language}
        if vip:
            summary["vip"] = ", ".join(vip)
        await self.api.send_message(
            conversation, self.note(summary, routing.language, rank), private=True
        )
        try:
            await self.api.set_priority(conversation, chatwoot_priority(rank))
        except ChatwootError as exc:  # the order of the inbox is worth less than the handoff
            logger.warning("priority of conversation %s not set: %s", conversation, exc)
        await self.api.toggle_status(conversation, AGENT_STATUS)
        return Handover(conversation, routing)

    def note(self, summary: Mapping[str, Any], language: str, rank: int) -> str:
        lines = self.summaries.lines(summary, language)
        return "\n".join([f"Borderless handoff · priority {rank}"] + [
            f"{line.label}: {line.value}" for line in lines
        ])  # fmt: skip

    async def is_held(self, ticket: str) -> bool:
        """Whether an agent still has the conversation (status ``open``); unsure means yes."""
        if not ticket.isdigit():
            return False
        try:
            return await self.api.status(int(ticket)) == AGENT_STATUS
        except ChatwootError as exc:
            logger.warning("conversation %s status unknown, keeping it paused: %s", ticket, exc)
            return True


# ------------------------------------------------------------------------------------------
# The bridge: Chatwoot agent-bot webhooks → Rasa → Chatwoot


class RasaRest:
    """Rasa's REST channel, as a customer's client: the bot's answers come in the response."""

    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.url = base_url.rstrip("/") + "/webhooks/rest/webhook"
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def say(
        self, sender: str, text: str, metadata: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        body = {"sender": sender, "message": text, "metadata": dict(metadata)}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(self.url, json=body) as answer,
            ):
                if answer.status >= 400:
                    raise RasaApiError(f"Rasa REST answered {answer.status}", answer.status)
                replies = await answer.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaApiError(f"Rasa REST failed: {exc!r}") from exc
        return [r for r in replies if isinstance(r, dict)] if isinstance(replies, list) else []


def reply_text(reply: Mapping[str, Any]) -> str:
    """One Rasa reply as Chatwoot text; buttons become a numbered list (plain-text channels)."""
    text = str(reply.get("text") or "")
    buttons = [b for b in reply.get("buttons") or [] if isinstance(b, Mapping)]
    if buttons:
        text += "".join(f"\n{i}. {b.get('title', '')}" for i, b in enumerate(buttons, 1))
    return text.strip()


def create_chatwoot_bridge(
    api: ChatwootApi, rasa_rest: RasaRest, rasa_api: RasaHttpApi, webhook_token: str
) -> Sanic:
    if len(webhook_token) < 16:
        raise ValueError("the Chatwoot webhook token must be at least 16 characters")
    app = Sanic(f"borderless-chatwoot-{next(_app_ids)}")
    app.config.REQUEST_MAX_SIZE = MAX_BODY_BYTES
    expected = webhook_token.encode()

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return sanic_json({"status": "ok"})

    @app.post("/webhooks/chatwoot")
    async def webhook(request: Request) -> HTTPResponse:
        given = (request.args.get("token") or "").encode()
        if not hmac.compare_digest(given, expected):
            return sanic_json({"error": "unauthorized"}, status=401)
        try:
            event = json.loads(request.body or b"")
        except ValueError:
            return sanic_json({"error": "body is not JSON"}, status=400)
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            return sanic_json({"error": "not a Chatwoot event"}, status=400)
        try:
            outcome = await handle_event(event, api, rasa_rest, rasa_api)
        except (ChatwootError, RasaApiError) as exc:
            logger.error("Chatwoot event %s not handled: %s", event["event"], exc)
            return sanic_json({"error": "upstream failed, retry"}, status=502)
        return sanic_json({"handled": outcome})

    return app


async def handle_event(
    event: Mapping[str, Any], api: ChatwootApi, rasa_rest: RasaRest, rasa_api: RasaHttpApi
) -> str:
    """What one webhook does; returns a short word for the log and the tests."""
    kind = event["event"]
    found = event.get("conversation") if kind == "message_created" else event
    conversation: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    raw_id = conversation.get("id")  # the display id; some payloads send it as a string
    if isinstance(raw_id, bool) or not str(raw_id).isdigit():
        return "ignored: no conversation id"
    conversation_id = int(str(raw_id))
    status = conversation.get("status")
    if kind == "message_created":
        if event.get("message_type") not in ("incoming", 0) or event.get("private"):
            return "ignored: not a customer message"
        if status != BOT_STATUS:
            return f"ignored: conversation is {status}"  # a person has it; Rasa logs nothing
        text = str(event.get("content") or "").strip()
        if not text:
            return "ignored: no text"
        replies = await rasa_rest.say(sender_id(conversation_id), text, _metadata(conversation))
        for reply in replies:
            if content := reply_text(reply):
                await api.send_message(conversation_id, content)
        return f"answered: {len(replies)}"
    if kind in ("conversation_status_changed", "conversation_resolved"):
        sender = sender_id(conversation_id)
        if status == BOT_STATUS:
            await rasa_api.resume(sender)
            answer = await rasa_api.trigger_intent(sender, RESOLVED_INTENT, "collector")
            for message in _trigger_messages(answer):
                if content := reply_text(message):
                    await api.send_message(conversation_id, content)
            return "handed back"
        if status == "resolved":
            await rasa_api.resume(sender)
            return "resumed"
        return f"ignored: status {status}"
    return f"ignored: {kind}"


def _metadata(conversation: Mapping[str, Any]) -> dict[str, Any]:
    attributes = conversation.get("additional_attributes") or {}
    language = attributes.get("browser_language") if isinstance(attributes, Mapping) else None
    metadata: dict[str, Any] = {"channel": "chatwoot"}
    if isinstance(language, str) and language:
        metadata["language"] = language
    return metadata


def _trigger_messages(answer: Any) -> list[Mapping[str, Any]]:
    messages = answer.get("messages") if isinstance(answer, Mapping) else None
    return [m for m in messages or [] if isinstance(m, Mapping)]


def main(argv: list[str] | None = None) -> None:
    """Run the bridge. Environment: ``CHATWOOT_URL``, ``CHATWOOT_ACCOUNT_ID``,
    ``CHATWOOT_API_TOKEN`` (the agent bot's access token), ``CHATWOOT_WEBHOOK_TOKEN`` (the
    secret in the webhook URL you give Chatwoot), ``RASA_URL``, ``RASA_AUTH_TOKEN``."""
    parser = argparse.ArgumentParser(description="Borderless ⇄ Chatwoot agent-bot bridge")
    parser.add_argument("--host", default=os.environ.get("CHATWOOT_BRIDGE_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("CHATWOOT_BRIDGE_PORT", "5090"))
    )
    args = parser.parse_args(argv)
    rasa_url = os.environ.get("RASA_URL", "http://localhost:5005")
    app = create_chatwoot_bridge(
        ChatwootApi(
            os.environ["CHATWOOT_URL"],
            int(os.environ["CHATWOOT_ACCOUNT_ID"]),
            os.environ["CHATWOOT_API_TOKEN"],
        ),
        RasaRest(rasa_url),
        RasaHttpApi(rasa_url, os.environ.get("RASA_AUTH_TOKEN") or None),
        os.environ.get("CHATWOOT_WEBHOOK_TOKEN", ""),
    )
    logging.basicConfig(level=logging.INFO)
    app.run(host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
