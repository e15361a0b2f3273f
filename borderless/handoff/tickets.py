"""Handoff tickets in SQL: what an agent needs to pick up a conversation the bot handed over.

SQLAlchemy Core with its own ``MetaData``, so the same two tables run on SQLite (the embedded
default and tests) and PostgreSQL (production), and never mix with the reference shop's schema.

Synchronous on purpose, like the shop repository: SQLAlchemy 1.4's async engine would need
aiosqlite/asyncpg, which this project does not ship. Async callers (actions, the agent console)
run each call in a thread: ``await asyncio.to_thread(store.create, ticket)``. Every method is
one short transaction, so that is safe with the engine's connection pool.

Status lifecycle (:data:`TRANSITIONS`): ``queued`` waits for a suitable team to come on duty,
``open`` waits for an agent of a team on duty, ``assigned`` has one, ``resolved`` is done by the
agent but reopens if the customer writes again, ``closed`` is final. A status change is one
conditional UPDATE, so when two agents take the same ticket at once exactly one wins and the
other gets :class:`InvalidTransition`; reassigning therefore goes back through ``open``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.engine import Connection, Engine, RowMapping

from borderless.handoff.routing import priority
from borderless.store.schema import UtcDateTime, make_engine

QUEUED, OPEN, ASSIGNED, RESOLVED, CLOSED = "queued", "open", "assigned", "resolved", "closed"
STATUSES: tuple[str, ...] = (QUEUED, OPEN, ASSIGNED, RESOLVED, CLOSED)
#: Still waiting for, or in the hands of, a human: what :meth:`TicketStore.list_open` returns.
ACTIVE_STATUSES: tuple[str, ...] = (QUEUED, OPEN, ASSIGNED)
#: status → the statuses it may move to.
TRANSITIONS: Mapping[str, frozenset[str]] = {
    QUEUED: frozenset({OPEN, ASSIGNED, CLOSED}),
    OPEN: frozenset({QUEUED, ASSIGNED, RESOLVED, CLOSED}),
    ASSIGNED: frozenset({OPEN, RESOLVED, CLOSED}),
    RESOLVED: frozenset({OPEN, CLOSED}),
    CLOSED: frozenset(),
}
SENDERS: tuple[str, ...] = ("customer", "bot", "agent", "system")

metadata = MetaData()

handoff_tickets = Table(
    "handoff_tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("conversation_id", String(255), nullable=False, index=True),
    Column("channel", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("customer_timezone", String(64), nullable=True),  # IANA name, when known
    Column("order_number", String(40), nullable=True),  # only an order the customer verified
    Column("reason", String(64), nullable=False),
    Column("frustration", Float, nullable=False),
    Column("vip", Boolean, nullable=False),
    Column("priority", Integer, nullable=False),  # routing.priority(), fixed at creation
    Column("last_intents", JSON, nullable=False),  # newest last
    Column("entities", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", String(64), nullable=True),
    Column("agent", String(128), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(
        "status IN ('queued', 'open', 'assigned', 'resolved', 'closed')",
        name="ck_handoff_tickets_status",
    ),
    Index("ix_handoff_tickets_queue", "status", "priority", "created_at"),
)

handoff_messages = Table(
    "handoff_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "ticket_id",
        Integer,
        ForeignKey("handoff_tickets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("sender", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
)


class TicketError(Exception):
    """Base of the ticket store's own errors."""


class TicketNotFound(TicketError, LookupError):
    pass


class InvalidTransition(TicketError, ValueError):
    """The ticket is not in a status that may move to the requested one (or someone was first)."""


@dataclass(frozen=True)
class NewTicket:
    """What the bot knows when it hands over; ``priority`` is derived from it, not passed in."""

    conversation_id: str
    channel: str
    language: str
    reason: str
    status: str = QUEUED
    frustration: float = 0.0
    vip: bool = False
    customer_timezone: str | None = None
    order_number: str | None = None
    last_intents: Sequence[str] = ()
    entities: Sequence[Mapping[str, Any]] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)
    team: str | None = None
    sensitive: bool = False  # a sensitive topic (handoff rules): ranks first


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    channel: str
    language: str
    reason: str
    status: str
    frustration: float
    vip: bool
    priority: int
    customer_timezone: str | None
    order_number: str | None
    last_intents: tuple[str, ...]
    entities: tuple[Mapping[str, Any], ...]
    summary: Mapping[str, Any]
    team: str | None
    agent: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Message:
    """One transcript line shown to the agent."""

    id: int
    ticket_id: int
    sender: str
    text: str
    at: datetime


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TicketStore:
    """The handoff queue. Opening it does no I/O; :meth:`create_schema` makes the tables."""

    def __init__(self, database_url: str, clock: Callable[[], datetime] = _utc_now) -> None:
        self.engine: Engine = make_engine(database_url)
        self.clock = clock  # injectable: tests control creation order and waiting times

    def create_schema(self) -> None:
        """Create missing tables; idempotent (no migrations yet, the schema is new)."""
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def create(self, ticket: NewTicket) -> int:
        _check_status(ticket.status)
        now = self.clock()
        values = {
            "conversation_id": ticket.conversation_id,
            "channel": ticket.channel,
            "language": ticket.language,
            "customer_timezone": ticket.customer_timezone,
            "order_number": ticket.order_number,
            "reason": ticket.reason,
            "frustration": float(ticket.frustration),
            "vip": ticket.vip,
            "priority": priority(ticket.reason, ticket.frustration, ticket.vip, ticket.sensitive),
            "last_intents": list(ticket.last_intents),
            "entities": [dict(entity) for entity in ticket.entities],
            "summary": dict(ticket.summary),
            "status": ticket.status,
            "team": ticket.team,
            "agent": None,
            "created_at": now,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            result = conn.execute(handoff_tickets.insert().values(**values))
            return int(result.inserted_primary_key[0])

    def get(self, ticket_id: int) -> Ticket:
        with self.engine.connect() as conn:
            return self._get(conn, ticket_id)

    def list_open(self, language: str | None = None, team: str | None = None) -> list[Ticket]:
        """Active tickets, most urgent first, then the longest waiting (then the oldest id)."""
        query = select(handoff_tickets).where(handoff_tickets.c.status.in_(ACTIVE_STATUSES))
        if language is not None:
            query = query.where(handoff_tickets.c.language == language)
        if team is not None:
            query = query.where(handoff_tickets.c.team == team)
        query = query.order_by(
            handoff_tickets.c.priority.desc(),
            handoff_tickets.c.created_at.asc(),
            handoff_tickets.c.id.asc(),
        )
        with self.engine.connect() as conn:
            return [_ticket(row) for row in conn.execute(query).mappings()]

    def update_status(self, ticket_id: int, status: str, agent: str | None = None) -> Ticket:
        """Move a ticket along :data:`TRANSITIONS`; ``assigned`` needs the agent taking it.

        Leaving ``assigned`` for ``open`` or ``queued`` clears the agent; other moves keep it
        unless a new one is given, so a resolved ticket still shows who resolved it.
        """
        _check_status(status)
        if status == ASSIGNED and not agent:
            raise InvalidTransition("assigning a ticket needs the agent")
        sources = [source for source, targets in TRANSITIONS.items() if status in targets]
        values: dict[str, Any] = {"status": status, "updated_at": self.clock()}
        if agent:
            values["agent"] = agent
        elif status in (OPEN, QUEUED):
            values["agent"] = None
        with self.engine.begin() as conn:
            result = conn.execute(
                handoff_tickets.update()
                .where(handoff_tickets.c.id == ticket_id)
                .where(handoff_tickets.c.status.in_(sources))
                .values(**values)
            )
            if result.rowcount == 1:
                return self._get(conn, ticket_id)
            current = self._get(conn, ticket_id)  # raises TicketNotFound
            raise InvalidTransition(f"ticket {ticket_id} is {current.status}, cannot be {status}")

    def append_message(self, ticket_id: int, sender: str, text: str, at: datetime) -> int:
        """Add a transcript line; it also marks the ticket as updated (new activity)."""
        if sender not in SENDERS:
            raise ValueError(f"sender must be one of {SENDERS}, got {sender!r}")
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"naive datetime {at.isoformat()}: pass a timezone-aware instant")
        with self.engine.begin() as conn:
            touched = conn.execute(
                handoff_tickets.update()
                .where(handoff_tickets.c.id == ticket_id)
                .values(updated_at=self.clock())
            )
            if touched.rowcount != 1:  # SQLite does not enforce the foreign key by default
                raise TicketNotFound(f"no handoff ticket {ticket_id}")
            result = conn.execute(
                handoff_messages.insert().values(
                    ticket_id=ticket_id, sender=sender, text=text, at=at
                )
            )
            return int(result.inserted_primary_key[0])

    def messages(self, ticket_id: int) -> list[Message]:
        """The transcript of a ticket in the order it happened."""
        query = (
            select(handoff_messages)
            .where(handoff_messages.c.ticket_id == ticket_id)
            .order_by(handoff_messages.c.at.asc(), handoff_messages.c.id.asc())
        )
        with self.engine.connect() as conn:
            return [
                Message(
                    id=row["id"],
                    ticket_id=row["ticket_id"],
                    sender=row["sender"],
                    text=row["text"],
                    at=row["at"],
                )
                for row in conn.execute(query).mappings()
            ]

    @staticmethod
    def _get(conn: Connection, ticket_id: int) -> Ticket:
        row = (
            conn.execute(select(handoff_tickets).where(handoff_tickets.c.id == ticket_id))
            .mappings()
            .first()
        )
        if row is None:
            raise TicketNotFound(f"no handoff ticket {ticket_id}")
        return _ticket(row)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")


def _ticket(row: RowMapping) -> Ticket:
    return Ticket(
        id=row["id"],
        conversation_id=row["conversation_id"],
        channel=row["channel"],
        language=row["language"],
        reason=row["reason"],
        status=row["status"],
        frustration=row["frustration"],
        vip=bool(row["vip"]),
        priority=row["priority"],
        customer_timezone=row["customer_timezone"],
        order_number=row["order_number"],
        last_intents=tuple(row["last_intents"] or ()),
        entities=tuple(row["entities"] or ()),
        summary=dict(row["summary"] or {}),
        team=row["team"],
        agent=row["agent"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
