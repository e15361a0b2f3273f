"""Activate a new model in the running Rasa server without making customers wait.

Not a customer channel: an input channel is simply the way to add a route to Rasa's own Sanic
app, where the running agent lives. Rasa 3.6's ``PUT /model`` loads the new model *inside the
event loop* (unpacking the archive, building the graph, loading TensorFlow weights: 10–50 s on
the 2-core machine) and builds a whole new agent with new tracker-store and event-broker
connections; every customer message that arrives meanwhile waits for the load to end.

``PUT /webhooks/models/active`` does it the other way round:

1. builds the new :class:`~rasa.core.processor.MessageProcessor` in a worker thread, on the
   running agent's own tracker store, lock store, action endpoint and response generator, while
   the event loop keeps answering customers with the old model;
2. warms it up in that thread (parses a few messages and predicts the next action once), so the
   first customer after the switch does not pay TensorFlow's first-call tracing, and so a model
   that cannot even do that is refused and the old one stays;
3. swaps it in on the event loop in one step (what ``Agent.load_model`` does after loading):
   a turn in progress finishes on the processor it started with, the next turn uses the new one.

credentials.yml::

    borderless.channels.model_loader.ModelLoaderInput:
      token: ${RASA_AUTH_TOKEN}

Requests carry the token as ``Authorization: Bearer <token>`` or ``?token=`` (compared in
constant time). The workbench (:mod:`borderless.workbench.retrain`) uses this route and falls
back to ``PUT /model`` where it is not configured. With several Rasa instances each loads the
model itself: the route has to be called on every instance (not done by the workbench yet).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

logger = logging.getLogger(__name__)

WARM_UP_MESSAGES = ("hello", "where is my order BL-10001", "wo ist meine Bestellung")
"""Parsed once by a freshly loaded model before it serves customers."""

LOADING_SWITCH_INTERVAL = 0.0005
"""Seconds between forced GIL hand-overs while a model loads (Python's default is 0.005)."""


class ModelLoaderInput(InputChannel):
    """``GET /webhooks/models/`` (which model runs, is one loading) and
    ``PUT /webhooks/models/active`` (``{"model_file": "<path>.tar.gz"}``)."""

    @classmethod
    def name(cls) -> str:
        return "models"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        token = str((credentials or {}).get("token") or "").strip()
        if not token:
            raise ValueError(
                "borderless.channels.model_loader.ModelLoaderInput needs a `token` in "
                "credentials.yml (e.g. token: ${RASA_AUTH_TOKEN}); without one anybody could "
                "swap the model."
            )
        return cls(token)

    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-loader")
        self.loading: str | None = None

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization") or ""
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        given = given or str(request.args.get("token") or "")
        return hmac.compare_digest(given.encode(), self.token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("models_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return json_response({"error": "a valid token is required"}, status=401)
            agent = request.app.ctx.agent
            return json_response({"active": agent.model_name, "loading": self.loading})

        @bp.route("/active", methods=["PUT"])
        async def activate(request: Request) -> HTTPResponse:
            if not self._authorized(request):
                return json_response({"error": "a valid token is required"}, status=401)
            body = request.json if request.body else None
            model_file = body.get("model_file") if isinstance(body, dict) else None
            if not isinstance(model_file, str) or not model_file.endswith(".tar.gz"):
                return json_response(
                    {"error": 'send {"model_file": "<path to a .tar.gz model>"}'}, status=400
                )
            path = Path(model_file)
            if not path.is_file():
                return json_response({"error": f"no model file at {model_file}"}, status=404)
            if self._lock.locked():
                return json_response(
                    {"error": f"a model is being loaded already: {self.loading}"}, status=409
                )
            async with self._lock:
                self.loading = path.name
                try:
                    return await self._activate(request.app.ctx.agent, path)
                finally:
                    self.loading = None

        return bp

    async def _activate(self, agent: Any, path: Path) -> HTTPResponse:
        loop = asyncio.get_running_loop()
        began = time.monotonic()
        # Loading reads thousands of small files from the archive, releasing the GIL each time;
        # with the default 5 ms switch interval a busy event loop takes it back at once and the
        # loader waits 5 ms per read (minutes under steady traffic). A shorter interval while
        # loading keeps both moving; one load at a time (the lock), so restoring is safe.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(LOADING_SWITCH_INTERVAL)
        try:
            processor, warm_up = await loop.run_in_executor(
                self._executor, _load_and_warm_up, agent, path
            )
        except Exception as exc:  # any failure keeps the running model
            logger.exception("model %s was not activated", path)
            return json_response(
                {"error": f"the model could not be loaded, the previous one stays: {exc}"},
                status=422,
            )
        finally:
            sys.setswitchinterval(interval)
        swap(agent, processor)
        seconds = round(time.monotonic() - began, 2)
        logger.info("activated %s in %.1f s without pausing the event loop", path.name, seconds)
        return json_response(
            {"model_file": path.name, "seconds": seconds, "warm_up_seconds": warm_up}
        )


def _load_and_warm_up(agent: Any, path: Path) -> tuple[MessageProcessor, float]:
    """Runs in the worker thread: everything slow happens here, nothing is shared yet."""
    processor = MessageProcessor(
        model_path=path,
        tracker_store=agent.tracker_store,
        lock_store=agent.lock_store,
        action_endpoint=agent.action_endpoint,
        generator=agent.nlg,
        http_interpreter=agent.http_interpreter,
    )
    began = time.monotonic()
    domain = processor.domain
    tracker = DialogueStateTracker.from_events("model-warm-up", [], slots=domain.slots)
    for text in WARM_UP_MESSAGES:
        message = UserMessage(text, sender_id=tracker.sender_id)
        parse = processor._parse_message_with_graph(message, tracker, True)
        if not parse.get("intent", {}).get("name"):
            raise ValueError(f"the model predicts no intent for {text!r}")
    tracker.update(UserUttered(WARM_UP_MESSAGES[0], parse_data=parse), domain)
    processor._predict_next_with_tracker(tracker)
    return processor, round(time.monotonic() - began, 2)


def swap(agent: Any, processor: MessageProcessor) -> None:
    """What ``Agent.load_model`` does once the processor exists, on the event loop: no await,
    so no coroutine sees half of it."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    agent.processor = processor
    agent.domain = processor.domain
    agent._set_fingerprint(None)
    agent.tracker_store.domain = processor.domain
    if isinstance(agent.nlg, TemplatedNaturalLanguageGenerator):
        agent.nlg.responses = processor.domain.responses if processor.domain else {}
