"""Conversations as trainers review them, read straight from Rasa's SQL tracker store.

Rasa's ``SQLTrackerStore`` keeps one row per event in ``events`` (``id``, ``sender_id``,
``type_name``, ``timestamp``, ``intent_name``, ``action_name``, ``data`` = the event as JSON).
We only ever SELECT from it (SQLite is opened read-only), so the workbench can point at the
production tracker store without risk. A user event's ``data.parse_data`` holds ``intent``,
``intent_ranking``, ``entities`` and our ``language_detection``; ``data.input_channel`` is the
channel.

Outcomes of a conversation, for filters and the inbox:

``handoff``      ``action_handoff`` ran or the ``handoff_ticket`` slot was set;
``fallback``     a message was classified ``nlu_fallback`` (or the default fallback ran);
``low_confidence`` a message's top intent is below :data:`LOW_CONFIDENCE`;
``csat_low``     the customer rated it 2 stars or fewer: the ``csat`` slot (1-5) that the web
                 widget's rating sets (``borderless/channels/widget/ratings.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine, select
from sqlalchemy.engine import Engine, make_url

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = ("action_default_fallback", "action_two_stage_fallback")
HANDOFF_ACTION = "action_handoff"
HANDOFF_SLOT = "handoff_ticket"
CSAT_SLOT = "csat"
LOW_CONFIDENCE = 0.5
OUTCOMES = ("handoff", "fallback", "low_confidence", "csat_low")

_metadata = MetaData()
# The columns of rasa.core.tracker_store.SQLTrackerStore.SQLEvent we read.
events_table = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass
class Message:
    """One customer message with what the assistant made of it and what it did next."""

    event_id: int
    sender_id: str
    text: str
    timestamp: float
    channel: str | None
    intent: str | None
    confidence: float
    # The classifier's own top choice when FallbackClassifier replaced it with nlu_fallback.
    top_intent: str | None
    ranking: list[dict[str, Any]]
    entities: list[dict[str, Any]]
    language: str | None
    detection: dict[str, Any]
    actions: list[str] = field(default_factory=list)
    bot_texts: list[str] = field(default_factory=list)
    before_handoff: bool = False
    # What followed the message in order, for test stories: ("action", name) for every action
    # but action_listen, ("active_loop", form name or None) when a form started or ended.
    steps: list[tuple[str, str | None]] = field(default_factory=list)

    @property
    def fallback(self) -> bool:
        return self.intent == FALLBACK_INTENT or any(a in FALLBACK_ACTIONS for a in self.actions)

    @property
    def low_confidence(self) -> bool:
        return self.confidence < LOW_CONFIDENCE

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, timezone.utc)


@dataclass
class Conversation:
    sender_id: str
    messages: list[Message]
    started: float
    ended: float
    channels: set[str]
    languages: set[str]
    handed_off: bool
    csat: float | None

    @property
    def outcomes(self) -> set[str]:
        found = set()
        if self.handed_off:
            found.add("handoff")
        if any(m.fallback for m in self.messages):
            found.add("fallback")
        if any(m.low_confidence for m in self.messages):
            found.add("low_confidence")
        if self.csat is not None and self.csat <= 2:
            found.add("csat_low")
        return found

    @property
    def intents(self) -> set[str]:
        return {m.intent for m in self.messages if m.intent}


@dataclass(frozen=True)
class Filters:
    language: str | None = None
    channel: str | None = None
    since: date | None = None
    until: date | None = None
    intent: str | None = None
    outcome: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Filters:
        """From query arguments; a malformed date or an unknown outcome is a ``ValueError``."""

        def text(name: str) -> str | None:
            value = args.get(name)
            return str(value).strip() or None if value is not None else None

        outcome = text("outcome")
        if outcome is not None and outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        since, until = text("since"), text("until")
        try:
            return cls(
                language=text("language"),
                channel=text("channel"),
                since=date.fromisoformat(since) if since else None,
                until=date.fromisoformat(until) if until else None,
                intent=text("intent"),
                outcome=outcome,
            )
        except ValueError:
            raise ValueError("dates must look like 2026-11-23") from None

    def accepts(self, conversation: Conversation) -> bool:
        start = datetime.fromtimestamp(conversation.started, timezone.utc).date()
        end = datetime.fromtimestamp(conversation.ended, timezone.utc).date()
        return (
            (self.language is None or self.language in conversation.languages)
            and (self.channel is None or self.channel in conversation.channels)
            and (self.since is None or end >= self.since)
            and (self.until is None or start <= self.until)
            and (self.intent is None or self.intent in conversation.intents)
            and (self.outcome is None or self.outcome in conversation.outcomes)
        )


def readonly_engine(url: str) -> Engine:
    """An engine that cannot write: SQLite opened with ``mode=ro``; for server databases give
    the workbench a role with SELECT on ``events`` only (docs/workbench.md)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        return create_engine(f"sqlite:///file:{parsed.database}?mode=ro&uri=true", future=True)
    return create_engine(url, future=True, pool_pre_ping=True)


class TrackerReader:
    """Conversations of a Rasa SQL tracker store; every call is one read-only query."""

    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            readonly_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )

    def _rows(self, sender_id: str | None = None) -> list[Any]:
        query = select(events_table).order_by(events_table.c.sender_id, events_table.c.id)
        if sender_id is not None:
            query = query.where(events_table.c.sender_id == sender_id)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def conversations(self, filters: Filters | None = None) -> list[Conversation]:
        """Newest first."""
        grouped: dict[str, list[Any]] = {}
        for row in self._rows():
            grouped.setdefault(row.sender_id, []).append(row)
        found = [build_conversation(sender, rows) for sender, rows in grouped.items()]
        chosen = [c for c in found if c.messages and (filters is None or filters.accepts(c))]
        return sorted(chosen, key=lambda c: c.ended, reverse=True)

    def conversation(self, sender_id: str) -> Conversation | None:
        rows = self._rows(sender_id)
        return build_conversation(sender_id, rows) if rows else None

    def message(self, event_id: int) -> Message | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(events_table.c.sender_id).where(events_table.c.id == event_id)
            ).first()
        if row is None:
            return None
        conversation = self.conversation(row.sender_id)
        if conversation is None:
            return None
        return next((m for m in conversation.messages if m.event_id == event_id), None)


def _data(row: Any) -> dict[str, Any]:
    try:
        data = json.loads(row.data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def build_conversation(sender_id: str, rows: Iterable[Any]) -> Conversation:
    messages: list[Message] = []
    channels: set[str] = set()
    handed_off = False
    csat: float | None = None
    timestamps: list[float] = []
    for row in rows:
        data = _data(row)
        timestamps.append(float(row.timestamp or 0.0))
        kind = row.type_name
        if kind == "user":
            message = _message(row, data)
            if message.channel:
                channels.add(message.channel)
            messages.append(message)
        elif kind == "action" and row.action_name:
            if row.action_name == HANDOFF_ACTION:
                handed_off = True
                if messages:
                    messages[-1].before_handoff = True
            if messages and row.action_name != "action_listen":
                messages[-1].actions.append(row.action_name)
                messages[-1].steps.append(("action", row.action_name))
        elif kind == "active_loop" and messages:
            loop = data.get("name")
            messages[-1].steps.append(("active_loop", str(loop) if loop else None))
        elif kind == "bot" and messages and data.get("text"):
            messages[-1].bot_texts.append(str(data["text"]))
        elif kind == "slot":
            name, value = data.get("name"), data.get("value")
            if name == HANDOFF_SLOT and value:
                handed_off = True
                if messages:
                    messages[-1].before_handoff = True
            elif name == CSAT_SLOT and isinstance(value, int | float):
                csat = float(value)
    return Conversation(
        sender_id=sender_id,
        messages=messages,
        started=min(timestamps, default=0.0),
        ended=max(timestamps, default=0.0),
        channels=channels,
        languages={m.language for m in messages if m.language},
        handed_off=handed_off,
        csat=csat,
    )


def _message(row: Any, data: Mapping[str, Any]) -> Message:
    parse = data.get("parse_data") or {}
    intent = parse.get("intent") or {}
    ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, dict)]
    detection = parse.get("language_detection") or {}
    name = intent.get("name") or row.intent_name
    top = name
    if name == FALLBACK_INTENT:
        real = [r for r in ranking if r.get("name") != FALLBACK_INTENT]
        top = real[0].get("name") if real else None
    confidence = intent.get("confidence")
    if name == FALLBACK_INTENT:
        real_conf = [r.get("confidence") for r in ranking if r.get("name") == top]
        confidence = real_conf[0] if real_conf else 0.0
    return Message(
        event_id=int(row.id),
        sender_id=str(row.sender_id),
        text=str(data.get("text") or ""),
        timestamp=float(row.timestamp or 0.0),
        channel=data.get("input_channel"),
        intent=name,
        confidence=float(confidence or 0.0),
        top_intent=top,
        ranking=ranking[:5],
        entities=[e for e in parse.get("entities") or [] if isinstance(e, dict)],
        language=(detection.get("language") or detection.get("detected"))
        if isinstance(detection, dict)
        else None,
        detection=detection if isinstance(detection, dict) else {},
    )
