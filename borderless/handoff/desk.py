"""Handing a conversation to a person: route it, record the ticket, say what happens next.

Pure Python (no Rasa): the action collects the facts from the tracker, this decides. A ticket
is ``open`` when a suitable team is on duty now, ``queued`` otherwise; the agent console lists
both, highest priority and longest waiting first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from borderless.handoff.routing import Routing, RoutingMode, route
from borderless.handoff.teams import Team, load_teams
from borderless.handoff.tickets import OPEN, QUEUED, NewTicket, TicketStore

# Reasons that mean the customer is upset; they rank first in the queue.
FRUSTRATED_REASONS = frozenset({"complaint"})


@dataclass(frozen=True)
class HandoffRequest:
    conversation_id: str
    channel: str
    language: str
    reason: str
    customer_timezone: str | None = None
    order_number: str | None = None
    frustration: float = 0.0
    last_intents: Sequence[str] = ()
    entities: Sequence[Mapping[str, Any]] = ()
    summary: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Handover:
    ticket_id: int
    routing: Routing


class HandoffDesk:
    def __init__(self, teams: Sequence[Team], tickets: TicketStore) -> None:
        self.teams = tuple(teams)
        self.tickets = tickets

    @classmethod
    def from_files(cls, teams_file: Path, database_url: str) -> HandoffDesk:
        tickets = TicketStore(database_url)
        tickets.create_schema()
        return cls(load_teams(teams_file), tickets)

    def hand_over(self, request: HandoffRequest, now: datetime) -> Handover:
        routing = route(request.language, now, self.teams)
        frustration = max(request.frustration, 0.7 if request.reason in FRUSTRATED_REASONS else 0.0)
        ticket_id = self.tickets.create(
            NewTicket(
                conversation_id=request.conversation_id,
                channel=request.channel,
                language=request.language,
                reason=request.reason,
                status=QUEUED if routing.mode is RoutingMode.QUEUED else OPEN,
                frustration=frustration,
                customer_timezone=request.customer_timezone,
                order_number=request.order_number,
                last_intents=tuple(request.last_intents),
                entities=tuple(request.entities),
                summary={**request.summary, "agent_language": routing.language},
                team=routing.team.name if routing.team else None,
            )
        )
        return Handover(ticket_id, routing)
