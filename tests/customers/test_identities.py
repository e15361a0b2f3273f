"""Linking channel identities to the shop's customer, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy.exc import OperationalError

from borderless.commerce.errors import OrderNotFound
from borderless.commerce.models import Order, OrderLookup, OrderReport, OrderStatus
from borderless.customers.identities import ChannelIdentity, CustomerLinks, IdentityStore
from borderless.handoff.auth import load_agents
from borderless.handoff.console import create_console_app
from borderless.handoff.rasa_api import RasaHttpApi
from borderless.handoff.tickets import NewTicket, TicketStore
from borderless.launcher import free_port
from borderless.settings import PROJECT_ROOT

ANNA_PHONE = "+49 151 2345 6789"
WIDGET = ChannelIdentity("socketio", "0123456789abcdef0123456789abcdef")
WHATSAPP = ChannelIdentity("whatsapp", "4915123456789")
MESSENGER = ChannelIdentity("messenger", "6254473951246820")


def order(
    number: str = "BL-10001", email: str = "Anna.Schmidt@example.de", phone: Any = ANNA_PHONE
):
    return Order(
        number=number,
        email=email,
        phone=phone,
        country="DE",
        status=OrderStatus.IN_TRANSIT,
        currency="EUR",
        total=Decimal("10"),
        placed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
        shipping_method="standard",
    )


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[IdentityStore]:
    store = IdentityStore(database_url, clock=clock, max_age=timedelta(days=30))
    store.create_schema()
    yield store
    store.dispose()


def test_a_proven_identity_is_not_asked_again(store: IdentityStore) -> None:
    assert store.known_contact(WIDGET) is None
    assert store.link(WIDGET, order(), "anna.schmidt@example.de")
    assert store.known_contact(WIDGET) == "anna.schmidt@example.de"
    # Another widget session (another browser) proved nothing.
    assert store.known_contact(ChannelIdentity("socketio", "f" * 32)) is None


def test_a_whatsapp_sender_with_the_orders_phone_is_the_customer_from_the_widget(
    store: IdentityStore,
) -> None:
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    # Meta proved the number; the order Anna proved on the widget carries it.
    assert store.known_contact(WHATSAPP, "+4915123456789") == "anna.schmidt@example.de"
    # Any other number is only itself (the order form tries it as the contact, as before).
    assert store.known_contact(WHATSAPP, "+33612345678") == "+33612345678"


def test_only_whatsapp_numbers_are_matched_to_order_phones(store: IdentityStore) -> None:
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    # A Messenger or widget message claiming the phone proves nothing about it.
    assert store.known_contact(MESSENGER, "+4915123456789") == "+4915123456789"
    assert store.known_contact(ChannelIdentity("socketio", "e" * 32), None) is None


def test_the_rest_channel_is_never_linked(store: IdentityStore) -> None:
    # Anyone may post any sender id to the REST webhook.
    rest = ChannelIdentity("rest", "4915123456789")
    assert not store.link(rest, order(), "anna.schmidt@example.de")
    assert store.known_contact(rest) is None
    assert store.linked_conversations("4915123456789") == []


def test_links_expire(store: IdentityStore, clock: Clock) -> None:
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    clock.now += timedelta(days=31)
    assert store.known_contact(WIDGET) is None
    assert store.known_contact(WHATSAPP, "+4915123456789") == "+4915123456789"


def test_an_identity_follows_its_latest_proof(store: IdentityStore, clock: Clock) -> None:
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    clock.now += timedelta(minutes=5)
    store.link(WIDGET, order("BL-10002", "ben@example.com", None), "ben@example.com")
    assert store.known_contact(WIDGET) == "ben@example.com"
    (only,) = store.linked_conversations(WIDGET.identity)
    assert (only.customer, only.order_number) == ("email:ben@example.com", "BL-10002")


def test_an_agent_sees_every_channel_of_the_customer(store: IdentityStore, clock: Clock) -> None:
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    clock.now += timedelta(hours=1)
    store.link(WHATSAPP, order("BL-10007"), "+4915123456789")
    clock.now += timedelta(hours=1)
    store.link(MESSENGER, order(email="anna.schmidt@EXAMPLE.de"), "anna.schmidt@example.de")
    store.link(ChannelIdentity("socketio", "b" * 32), order("BL-10002", "ben@example.com"), "x")
    for asked in (WIDGET.identity, WHATSAPP.identity, MESSENGER.identity):
        linked = store.linked_conversations(asked)
        assert [(c.channel, c.conversation_id) for c in linked] == [
            ("messenger", MESSENGER.identity),
            ("whatsapp", WHATSAPP.identity),
            ("socketio", WIDGET.identity),
        ]
        assert {c.customer for c in linked} == {"email:anna.schmidt@example.de"}
    assert store.linked_conversations("never-seen") == []


# -- the async face the actions use --------------------------------------------------------------


class FakeDesk:
    def __init__(self, result: Order | None) -> None:
        self.result = result

    async def report(self, lookup: OrderLookup) -> OrderReport:
        if self.result is None or not lookup.matches(self.result):
            raise OrderNotFound(lookup.number)
        return OrderReport(self.result)


async def test_a_verified_report_links_and_a_failed_one_does_not(store: IdentityStore) -> None:
    links = CustomerLinks(store, FakeDesk(order()))
    with pytest.raises(OrderNotFound):
        await links.report(OrderLookup("BL-10001", email="mallory@example.com"), WIDGET)
    assert await links.known_contact(WIDGET, None) is None
    report = await links.report(OrderLookup("BL-10001", email="anna.schmidt@example.de"), WIDGET)
    assert report.order.number == "BL-10001"
    assert await links.known_contact(WIDGET, None) == "anna.schmidt@example.de"


async def test_a_broken_database_never_breaks_the_answer(tmp_path: Path) -> None:
    # A directory where the database file should be: every query fails.
    (tmp_path / "db").mkdir()
    links = CustomerLinks(IdentityStore(f"sqlite:///{tmp_path / 'db'}"), FakeDesk(order()))
    report = await links.report(OrderLookup("BL-10001", phone=ANNA_PHONE), WHATSAPP)
    assert report.order.number == "BL-10001"
    assert await links.known_contact(WHATSAPP, "+4915123456789") == "+4915123456789"
    assert await links.known_contact(WIDGET, None) is None
    with pytest.raises(OperationalError):
        await links.linked_conversations(WIDGET.identity)


# -- the agent's endpoint ------------------------------------------------------------------------


async def test_the_endpoint_lists_the_linked_conversations_behind_the_console_login(
    store: IdentityStore, tmp_path: Path
) -> None:
    """Mounted on the agent console as the console should do it: only a logged-in agent sees
    the customer's conversations."""
    store.link(WIDGET, order(), "anna.schmidt@example.de")
    store.link(WHATSAPP, order(), "+4915123456789")
    tickets = TicketStore(f"sqlite:///{tmp_path / 'tickets.db'}")
    tickets.create_schema()
    ticket_id = tickets.create(NewTicket(WHATSAPP.identity, "whatsapp", "de", "request_human"))
    Sanic.test_mode = True
    app = create_console_app(
        tickets,
        RasaHttpApi("http://127.0.0.1:9", "token", timeout=1),
        load_agents(PROJECT_ROOT / "demo" / "agents.yml"),
        "test-secret-that-is-long-enough",
        identities=store,
    )
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    base = f"http://127.0.0.1:{port}"
    linked = f"{base}/api/customers/linked/"
    try:
        # No keep-alive: no connection task outlives the server.
        connector = aiohttp.TCPConnector(force_close=True)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar) as session:
            async with session.get(linked + WHATSAPP.identity, allow_redirects=False) as response:
                assert response.status == 303 and "/login" in response.headers["Location"]
            form = {"username": "mia", "password": "demo-password"}
            async with session.post(f"{base}/login", data=form, allow_redirects=False) as response:
                assert response.status == 303
            async with session.get(linked + WHATSAPP.identity) as response:
                body = await response.json()
            assert body["customer"] == "email:anna.schmidt@example.de"
            assert {c["channel"] for c in body["conversations"]} == {"socketio", "whatsapp"}
            async with session.get(linked + "unknown") as response:
                assert (await response.json())["conversations"] == []
            async with session.get(linked + "x" * 300) as response:
                assert response.status == 400
            # The ticket of the WhatsApp conversation shows the widget conversation.
            async with session.get(f"{base}/tickets/{ticket_id}") as response:
                page = await response.text()
            assert 'id="elsewhere"' in page and WIDGET.identity in page and "BL-10001" in page
        await asyncio.sleep(0.1)  # let the server finish its side of the closed connections
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
