"""Customer satisfaction (CSAT) from the web widget: "How would you rate this conversation?".

When is a customer asked? When the conversation comes to an end: the responses that close it
(``utter_goodbye``, ``utter_no_problem`` after "nothing else", ``utter_handoff_back`` when an
agent resolves a ticket) have a ``channel: socketio`` variation in ``domain.yml`` with the same
text plus ``custom: {borderless: {ask_rating: true}}``. Only the widget gets that variation
(Rasa picks channel-specific variations for their channel), and the widget turns it into the
star rating instead of showing it; WhatsApp, Messenger and REST get the plain response.

The rating comes back over the widget's socket (``csat`` event, see
:class:`borderless.channels.widget.channel.WebWidgetInput`) and is recorded here as
``SlotSet("csat", score)`` appended to the conversation's tracker, the way Rasa's own
``POST /conversations/<id>/tracker/events`` appends external events: under the conversation's
lock from the agent's lock store (so it never interleaves with a running bot turn), on the
tracker from the agent's tracker store, saved back (which also streams it to the event
broker). The workbench's ``csat_low`` filter reads exactly that event.

What is refused, with a code the widget can show (nothing is written then):

``no_conversation``  no tracker for the session yet (a rating must not create a conversation);
``already_rated``    a ``csat`` was set already: once per conversation (carried over into
                     later Rasa sessions like every slot, actions/session.py);
``not_asked``        the bot never asked in this session: ratings describe ended conversations,
                     and a script cannot rate in the middle of one;
``unavailable``      no agent yet, or the tracker or lock store failed (logged).

Unlike the HTTP API we take the tracker as stored (``retrieve``) instead of
``fetch_tracker_with_initial_session``: a rating given after the session expired must not run
``action_session_start`` (an action server call) nor open an empty session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from rasa.shared.core.events import BotUttered, Event, SlotSet

logger = logging.getLogger(__name__)

CSAT_SLOT = "csat"
MIN_SCORE, MAX_SCORE = 1, 5
# The custom payload of a response that ends the conversation (domain.yml, channel socketio).
ASK_RATING: dict[str, Any] = {"borderless": {"ask_rating": True}}

OK = "ok"
INVALID_SCORE = "invalid_score"
NO_SESSION = "no_session"
NO_CONVERSATION = "no_conversation"
ALREADY_RATED = "already_rated"
NOT_ASKED = "not_asked"
UNAVAILABLE = "unavailable"
TOO_MANY = "too_many"


class RatingAgent(Protocol):
    """The parts of ``rasa.core.agent.Agent`` a rating needs."""

    tracker_store: Any
    lock_store: Any
    domain: Any


def rating_score(data: Any) -> int | None:
    """The score of a ``csat`` event (``{"score": 1..5}``, an integer), else ``None``.

    Strict on purpose: ``true``, ``"5"``, ``4.5`` or ``50`` are a broken or hostile client,
    not a customer, and must not end up in the trainers' statistics."""
    if not isinstance(data, Mapping):
        return None
    score = data.get("score")
    if isinstance(score, bool) or not isinstance(score, int):
        return None
    return score if MIN_SCORE <= score <= MAX_SCORE else None


def asks_for_rating(custom: Any) -> bool:
    """Whether a response's ``custom`` payload is the end-of-conversation rating request."""
    if not isinstance(custom, Mapping):
        return False
    ours = custom.get("borderless")
    return isinstance(ours, Mapping) and ours.get("ask_rating") is True


def rating_problem(events: Iterable[Event]) -> str | None:
    """Why this session's events cannot take a rating now (a code above), or ``None``."""
    asked = False
    for event in events:
        if isinstance(event, SlotSet) and event.key == CSAT_SLOT and event.value is not None:
            return ALREADY_RATED
        if isinstance(event, BotUttered) and asks_for_rating(event.data.get("custom")):
            asked = True
    return None if asked else NOT_ASKED


async def record_rating(
    agent: RatingAgent | None, sender_id: str, score: int, channel: str = "socketio"
) -> str:
    """Append ``SlotSet("csat", score)`` to ``sender_id``'s tracker; :data:`OK` or the reason
    it was refused (module docstring). Never raises: the caller is a socket event handler."""
    if agent is None or getattr(agent, "tracker_store", None) is None:
        return UNAVAILABLE
    try:
        async with agent.lock_store.lock(sender_id):
            tracker = await agent.tracker_store.retrieve(sender_id)
            if tracker is None:
                return NO_CONVERSATION
            problem = rating_problem(tracker.events)
            if problem is not None:
                return problem
            tracker.update(SlotSet(CSAT_SLOT, score, metadata={"channel": channel}), agent.domain)
            await agent.tracker_store.save(tracker)
    except Exception:  # a lock timeout, a database error: the widget says "try again"
        logger.exception("Could not record a widget rating.")
        return UNAVAILABLE
    return OK
