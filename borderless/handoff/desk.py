"""Handing a conversation to a person: route it, record the ticket, say what happens next.

Pure Python (no Rasa): the action collects the facts from the tracker, this decides. A ticket
is ``open`` when a suitable team is on duty now, ``queued`` otherwise; the agent console lists
both, highest priority and longest waiting first.

The priority inputs come from the handoff rules (:mod:`borderless.handoff.triggers`,
``demo/handoff_rules.yml``): a reason that is a sensitive topic, the frustration score (a
complaint's floor lives in :func:`~borderless.handoff.frustration.frustration`), and VIP, from
the value of the order the customer verified and their number of earlier orders.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from borderless.handoff.routing import Routing, RoutingMode, route
from borderless.handoff.teams import Team, load_teams
from borderless.handoff.tickets import (
    ACTIVE_STATUSES,
    OPEN,
    QUEUED,
    NewTicket,
    TicketNotFound,
    TicketStore,
)
from borderless.handoff.triggers import HandoffRules, load_rules


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
    # VIP facts about the verified order (slots set when the customer verified it).
    order_total: Decimal | None = None
    order_currency: str | None = None
    previous_orders: int | None = None


@dataclass(frozen=True)
class Handover:
    ticket_id: int
    routing: Routing


class HandoffDesk:
    def __init__(
        self,
        teams: Sequence[Team],
        tickets: TicketStore,
        rules: HandoffRules | None = None,
    ) -> None:
        self.teams = tuple(teams)
        self.tickets = tickets
        self.rules = rules or HandoffRules()

    @classmethod
    def from_files(
        cls,
        teams_file: Path,
        database_url: str,
        rules_file: Path | None = None,
    ) -> HandoffDesk:
        tickets = TicketStore(database_url)
        tickets.create_schema()
        rules = load_rules(rules_file) if rules_file is not None else None
        return cls(load_teams(teams_file), tickets, rules)

    async def hand_over_async(self, request: HandoffRequest, now: datetime) -> Handover:
        """:meth:`hand_over` off the event loop (the ticket store is synchronous)."""
        return await asyncio.to_thread(self.hand_over, request, now)

    async def is_held(self, ticket: str) -> bool:
        """Whether the ticket still waits for, or is with, a person (the bot stays paused)."""
        if not ticket.isdigit():
            return False
        try:
            found = await asyncio.to_thread(self.tickets.get, int(ticket))
        except TicketNotFound:
            return False
        return found.status in ACTIVE_STATUSES

    def hand_over(self, request: HandoffRequest, now: datetime) -> Handover:
        routing = route(request.language, now, self.teams)
        vip = self.rules.vip.reasons(
            request.order_total, request.order_currency, request.previous_orders
        )
        sensitive = request.reason.strip().lower() in self.rules.sensitive_topics
        summary = {**request.summary, "agent_language": routing.language}
        if vip:
            summary["vip"] = ", ".join(vip)
        ticket_id = self.tickets.create(
            NewTicket(
                conversation_id=request.conversation_id,
                channel=request.channel,
                language=request.language,
                reason=request.reason,
                status=QUEUED if routing.mode is RoutingMode.QUEUED else OPEN,
                frustration=request.frustration,
                vip=bool(vip),
                sensitive=sensitive,
                customer_timezone=request.customer_timezone,
                order_number=request.order_number,
                last_intents=tuple(request.last_intents),
                entities=tuple(request.entities),
                summary=summary,
                team=routing.team.name if routing.team else None,
            )
        )
        return Handover(ticket_id, routing)
