"""The ticket store on a temporary SQLite file and on PostgreSQL (each test runs on both)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from borderless.handoff.routing import priority
from borderless.handoff.tickets import (
    InvalidTransition,
    NewTicket,
    TicketNotFound,
    TicketStore,
)

START = datetime(2026, 6, 9, 8, 0, tzinfo=timezone.utc)


class Clock:
    """Each reading one minute after the last, so creation order is waiting order."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@pytest.fixture
def store(database_url: str) -> Iterator[TicketStore]:
    store = TicketStore(database_url, clock=Clock())
    store.create_schema()
    store.create_schema()  # idempotent
    try:
        yield store
    finally:
        store.dispose()


def ticket(conversation_id: str, **fields: object) -> NewTicket:
    values: dict[str, object] = {
        "conversation_id": conversation_id,
        "channel": "whatsapp",
        "language": "de",
        "reason": "order_status",
        **fields,
    }
    return NewTicket(**values)  # type: ignore[arg-type]


def test_create_and_get_round_trip(store: TicketStore) -> None:
    new = ticket(
        "conv-1",
        reason="chargeback",
        frustration=0.8,
        vip=True,
        customer_timezone="Europe/Vienna",
        order_number="BL-10004",
        last_intents=["order_status", "complain", "handoff"],
        entities=[{"entity": "order_number", "value": "BL-10004"}],
        summary={"topic": "chargeback", "order": "BL-10004", "note": "Bank dispute opened"},
        team="berlin",
    )
    ticket_id = store.create(new)
    stored = store.get(ticket_id)
    assert stored.id == ticket_id
    assert stored.conversation_id == "conv-1"
    assert stored.status == "queued"
    assert stored.priority == priority("chargeback", 0.8, vip=True)
    assert stored.vip is True
    assert stored.frustration == pytest.approx(0.8)
    assert stored.customer_timezone == "Europe/Vienna"
    assert stored.order_number == "BL-10004"
    assert stored.last_intents == ("order_status", "complain", "handoff")
    assert stored.entities == ({"entity": "order_number", "value": "BL-10004"},)
    assert stored.summary["note"] == "Bank dispute opened"
    assert stored.team == "berlin" and stored.agent is None
    assert stored.created_at == stored.updated_at == START + timedelta(minutes=1)
    assert stored.created_at.tzinfo is not None


def test_list_open_by_priority_then_waiting_time(store: TicketStore) -> None:
    plain_old = store.create(ticket("plain-old", team="berlin"))
    plain_new = store.create(ticket("plain-new", team="berlin"))
    vip = store.create(ticket("vip", vip=True, team="berlin"))
    legal = store.create(ticket("legal", reason="legal", team="berlin"))
    upset = store.create(ticket("upset", frustration=0.9, language="fr", team="berlin"))
    elsewhere = store.create(ticket("ja", language="ja", team="tokyo"))
    done = store.create(ticket("done", team="berlin"))
    store.update_status(done, "closed")

    ordered = [t.id for t in store.list_open()]
    assert ordered == [legal, upset, vip, plain_old, plain_new, elsewhere]
    assert [t.id for t in store.list_open(team="berlin")] == ordered[:-1]
    assert [t.id for t in store.list_open(language="fr")] == [upset]
    assert [t.id for t in store.list_open(language="de", team="tokyo")] == []


def test_status_lifecycle_and_assignment(store: TicketStore) -> None:
    ticket_id = store.create(ticket("conv-2"))
    created = store.get(ticket_id)
    opened = store.update_status(ticket_id, "open")
    assert opened.status == "open" and opened.updated_at > created.updated_at
    assigned = store.update_status(ticket_id, "assigned", agent="mia@berlin")
    assert (assigned.status, assigned.agent) == ("assigned", "mia@berlin")
    with pytest.raises(InvalidTransition, match="assigned"):  # a second agent is too late
        store.update_status(ticket_id, "assigned", agent="jonas@berlin")
    assert store.get(ticket_id).agent == "mia@berlin"
    resolved = store.update_status(ticket_id, "resolved")
    assert resolved.agent == "mia@berlin"  # who resolved it stays visible
    assert store.update_status(ticket_id, "open").agent is None  # the customer wrote again
    store.update_status(ticket_id, "closed")
    with pytest.raises(InvalidTransition):
        store.update_status(ticket_id, "open")
    assert store.list_open() == []


def test_invalid_updates(store: TicketStore) -> None:
    ticket_id = store.create(ticket("conv-3"))
    with pytest.raises(InvalidTransition, match="agent"):
        store.update_status(ticket_id, "assigned")
    with pytest.raises(ValueError, match="status"):
        store.update_status(ticket_id, "escalated")
    with pytest.raises(TicketNotFound):
        store.update_status(ticket_id + 100, "open")
    with pytest.raises(TicketNotFound):
        store.get(ticket_id + 100)
    with pytest.raises(ValueError, match="status"):
        store.create(ticket("conv-4", status="pending"))


def test_transcript_for_the_agent(store: TicketStore) -> None:
    ticket_id = store.create(ticket("conv-5"))
    other = store.create(ticket("conv-6"))
    store.append_message(ticket_id, "customer", "Wo ist meine Bestellung?", START)
    store.append_message(ticket_id, "bot", "Ich verbinde dich.", START + timedelta(seconds=2))
    store.append_message(other, "customer", "Hallo", START)
    store.append_message(ticket_id, "agent", "Hallo, hier ist Mia.", START + timedelta(hours=1))
    lines = store.messages(ticket_id)
    assert [(m.sender, m.text) for m in lines] == [
        ("customer", "Wo ist meine Bestellung?"),
        ("bot", "Ich verbinde dich."),
        ("agent", "Hallo, hier ist Mia."),
    ]
    assert lines[0].at == START and lines[0].at.tzinfo is not None
    assert store.get(ticket_id).updated_at > store.get(ticket_id).created_at
    with pytest.raises(TicketNotFound):
        store.append_message(other + 100, "customer", "?", START)
    with pytest.raises(ValueError, match="sender"):
        store.append_message(ticket_id, "robot", "?", START)
    with pytest.raises(ValueError, match="naive"):
        store.append_message(ticket_id, "customer", "?", datetime(2026, 6, 9, 8, 0))
