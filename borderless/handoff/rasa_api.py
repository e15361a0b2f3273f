"""A small typed client for the parts of Rasa's HTTP API the agent console needs.

Why these endpoints (Rasa 3.6, ``rasa run --enable-api --auth-token …``):

* an agent's reply is appended as a ``bot`` event with ``execute_side_effects=true`` and the
  customer's ``output_channel``: ``rasa/server.py`` ``append_events`` then calls
  ``MessageProcessor.execute_side_effects``, which sends every ``BotUttered`` through that
  channel's output channel. The reply reaches the customer where they wrote *and* lands in the
  tracker, so the bot sees it when it takes over again. (A channel that does not implement
  ``get_output_channel()`` falls back to a collecting channel, i.e. the tracker only.)
* ``pause`` / ``resume`` are appended events: no intent can un-pause a paused tracker from
  inside Rasa (RasaHQ/rasa#8119);
* ``trigger_intent`` hands the conversation back: it injects an external intent and runs the
  prediction loop, with the bot's answer going to the real channel.

The token travels as ``?token=`` (Rasa's token auth). Every failure, from a refused connection to
a 5xx, becomes :class:`RasaApiError`, so the console has one thing to catch. The
``aiohttp.ClientSession`` is injectable (the test seam); without one, each call opens its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

LATEST = "latest"  # Rasa's "use the latest input channel of the tracker" output channel


class RasaApiError(Exception):
    """Rasa could not be reached, refused the call, or answered with something unusable.

    ``status`` is the HTTP status when Rasa answered, ``None`` for transport errors.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# Resuming appends these in one request: un-pause, forget the ticket (so a later session start
# does not pause again, actions/session.py), then the listen the paused turn never ran.
RESUME_EVENTS: list[dict[str, Any]] = [
    {"event": "resume"},
    {"event": "slot", "name": "handoff_ticket", "value": None},
    {"event": "action", "name": "action_listen"},
]


class RasaHttpApi:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token or None
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session = session

    async def tracker(self, conversation_id: str) -> dict[str, Any]:
        """The full tracker (all events), for the transcript the agent reads."""
        body = await self._request(
            "GET", conversation_id, "tracker", params={"include_events": "ALL"}
        )
        if not isinstance(body, dict):
            raise RasaApiError("tracker answer is not a JSON object")
        return body

    async def send_agent_message(
        self, conversation_id: str, text: str, output_channel: str = LATEST
    ) -> None:
        """Send an agent's text to the customer through their channel, logged as a bot turn."""
        await self._append(
            conversation_id,
            {"event": "bot", "text": text, "metadata": {"sender": "agent"}},
            params={"output_channel": output_channel, "execute_side_effects": "true"},
        )

    async def pause(self, conversation_id: str) -> None:
        await self._append(conversation_id, {"event": "pause"})

    async def resume(self, conversation_id: str) -> None:
        """Un-pause, and put the bot back in the state of waiting for the customer.

        A paused conversation never ran ``action_listen`` after the handoff action, so without
        it the next turn (the hand-back intent or the customer's next message) would follow
        ``action_handoff`` in the dialogue state, which no rule or story covers.
        """
        await self._append(conversation_id, RESUME_EVENTS)

    async def trigger_intent(
        self,
        conversation_id: str,
        name: str,
        output_channel: str = LATEST,
        entities: Mapping[str, Any] | None = None,
    ) -> Any:
        """Inject ``name`` and run the bot. Rasa answers ``{"tracker": …}``, plus the bot's
        ``messages`` when the output channel collects (any name that is no real channel)."""
        payload: dict[str, Any] = {"name": name}
        if entities:
            payload["entities"] = dict(entities)
        return await self._request(
            "POST",
            conversation_id,
            "trigger_intent",
            params={"output_channel": output_channel},
            json=payload,
        )

    async def _append(
        self,
        conversation_id: str,
        event: Mapping[str, Any] | list[dict[str, Any]],
        params: Mapping[str, str] | None = None,
    ) -> None:
        body = list(event) if isinstance(event, list) else dict(event)
        await self._request(
            "POST", conversation_id, "tracker/events", params=params or {}, json=body
        )

    async def _request(
        self,
        method: str,
        conversation_id: str,
        path: str,
        params: Mapping[str, str],
        json: Any = None,
    ) -> Any:
        url = f"{self.base_url}/conversations/{quote(conversation_id, safe='')}/{path}"
        query = dict(params)
        if self.token:
            query["token"] = self.token
        session = self._session or aiohttp.ClientSession(timeout=self.timeout)
        try:
            async with session.request(
                method, url, params=query, json=json, timeout=self.timeout
            ) as answer:
                if answer.status >= 400:
                    detail = (await answer.text())[:300]
                    raise RasaApiError(
                        f"Rasa {method} {path} answered {answer.status}: {detail}", answer.status
                    )
                try:
                    return await answer.json(content_type=None)
                except ValueError as exc:
                    raise RasaApiError(f"Rasa {method} {path} answered invalid JSON") from exc
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaApiError(f"Rasa {method} {path} failed: {exc!r}") from exc
        finally:
            if self._session is None:
                await session.close()
