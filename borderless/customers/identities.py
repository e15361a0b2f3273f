"""One customer across channels: who proved which order, from which channel identity.

When a customer proves an order is theirs (order number plus the email or phone it was placed
with) on any channel, the channel identity they wrote from (WhatsApp number, Messenger PSID,
web widget session, ...) is linked to the shop's customer, keyed by the order's email. Then:

* the same identity is not asked again: the order form takes the contact it proved last time
  (:meth:`IdentityStore.known_contact`), for any order of that customer;
* a WhatsApp sender whose number (proven by Meta's signed webhook) is the phone of an order a
  customer proved elsewhere, e.g. on the web widget with the email, is that customer: not asked
  again for the email either;
* an agent sees every conversation of the customer, on every channel
  (:meth:`IdentityStore.linked_conversations`).

Only channels whose ids the customer cannot choose are linked (:data:`TRUSTED_CHANNELS`):
WhatsApp and Messenger ids come from signed webhooks, widget session ids are random 128-bit
secrets the channel enforces. The REST channel takes any ``sender`` from anyone and is never
linked (tests opt in through the store's ``channels``). A link older than ``max_age`` is
ignored (a widget on a shared computer does not vouch for ever).

The tables live in the handoff database (``HANDOFF_DATABASE_URL``), next to the tickets that
agents look at. Everything here is synchronous SQLAlchemy Core; :class:`CustomerLinks` is the
async face the actions use (threads, and a failing database never breaks a reply).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, RowMapping
from sqlalchemy.exc import SQLAlchemyError

from borderless.commerce.models import (
    Order,
    OrderLookup,
    OrderReport,
    normalize_email,
    normalize_phone,
)
from borderless.store.schema import UtcDateTime, make_engine

logger = logging.getLogger(__name__)

# Channel names as Rasa records them in ``input_channel``.
TRUSTED_CHANNELS = frozenset({"whatsapp", "twilio_whatsapp", "messenger", "socketio"})
# Channels whose ``metadata.phone`` is the sender's number, proven by the platform.
PHONE_CHANNELS = frozenset({"whatsapp", "twilio_whatsapp"})
DEFAULT_MAX_AGE = timedelta(days=90)

metadata = MetaData()

channel_identities = Table(
    "channel_identities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(32), nullable=False),
    # The channel's id of the customer; Rasa's conversation id on that channel.
    Column("identity", String(255), nullable=False),
    Column("customer", String(330), nullable=False, index=True),
    # What the customer proved with (email or +phone), offered for the next lookup.
    Column("contact", String(320), nullable=False),
    Column("order_number", String(64), nullable=False),
    Column("first_linked_at", UtcDateTime, nullable=False),
    Column("last_verified_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel", "identity", name="uq_channel_identities"),
)

# Phones of orders a customer proved: how a WhatsApp sender is recognized.
customer_phones = Table(
    "customer_phones",
    metadata,
    Column("phone", String(32), primary_key=True),
    Column("customer", String(330), nullable=False, index=True),
    Column("seen_at", UtcDateTime, nullable=False),
)


def customer_key(order: Order) -> str:
    """The shop's customer: the order's email, normalized."""
    return "email:" + normalize_email(order.email)


def phone_key(phone: str) -> str:
    return "+" + normalize_phone(phone)


@dataclass(frozen=True)
class ChannelIdentity:
    """Who wrote, as a channel knows them. ``identity`` is Rasa's sender id on that channel."""

    channel: str
    identity: str


@dataclass(frozen=True)
class LinkedConversation:
    channel: str
    conversation_id: str
    customer: str
    order_number: str
    first_linked_at: datetime
    last_verified_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "conversation_id": self.conversation_id,
            "customer": self.customer,
            "order_number": self.order_number,
            "first_linked_at": self.first_linked_at.isoformat(),
            "last_verified_at": self.last_verified_at.isoformat(),
        }


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class IdentityStore:
    """The links. Opening it does no I/O; :meth:`create_schema` makes the tables."""

    def __init__(
        self,
        database_url: str,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        channels: Iterable[str] = TRUSTED_CHANNELS,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.engine: Engine = make_engine(database_url)
        self.max_age = max_age
        self.channels = frozenset(channels)
        self.clock = clock

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def trusts(self, who: ChannelIdentity) -> bool:
        """Whether ``who``'s channel is one whose ids we link (see the module docstring)."""
        return who.channel in self.channels and bool(who.identity)

    def link(self, who: ChannelIdentity, order: Order, proven_contact: str) -> bool:
        """Record that ``who`` proved ``order`` with ``proven_contact``; False if the channel
        is not one we link."""
        if not self.trusts(who):
            return False
        now = self.clock()
        customer = customer_key(order)
        values = {
            "customer": customer,
            "contact": proven_contact,
            "order_number": order.number,
            "last_verified_at": now,
        }
        where = (channel_identities.c.channel == who.channel) & (
            channel_identities.c.identity == who.identity
        )
        with self.engine.begin() as connection:
            updated = connection.execute(update(channel_identities).where(where).values(values))
            if updated.rowcount == 0:
                connection.execute(
                    insert(channel_identities).values(
                        channel=who.channel, identity=who.identity, first_linked_at=now, **values
                    )
                )
            if order.phone and len(normalize_phone(order.phone)) >= 7:
                phone = phone_key(order.phone)
                connection.execute(delete(customer_phones).where(customer_phones.c.phone == phone))
                connection.execute(
                    insert(customer_phones).values(phone=phone, customer=customer, seen_at=now)
                )
        return True

    def known_contact(self, who: ChannelIdentity, verified_phone: str | None = None) -> str | None:
        """The contact to verify the next order with, without asking; ``None`` to ask.

        The identity's own link first; then, for a WhatsApp sender, the customer whose proven
        order carries the sender's number (their latest proven contact); then that number."""
        if self.trusts(who):
            fresh = self.clock() - self.max_age
            with self.engine.connect() as connection:
                row = connection.execute(
                    select(channel_identities.c.contact).where(
                        (channel_identities.c.channel == who.channel)
                        & (channel_identities.c.identity == who.identity)
                        & (channel_identities.c.last_verified_at >= fresh)
                    )
                ).first()
                if row is not None:
                    return str(row.contact)
                if who.channel in PHONE_CHANNELS and verified_phone:
                    contact = connection.execute(
                        select(channel_identities.c.contact)
                        .join(
                            customer_phones,
                            customer_phones.c.customer == channel_identities.c.customer,
                        )
                        .where(
                            (customer_phones.c.phone == phone_key(verified_phone))
                            & (channel_identities.c.last_verified_at >= fresh)
                        )
                        .order_by(channel_identities.c.last_verified_at.desc())
                        .limit(1)
                    ).scalar()
                    if contact:
                        return str(contact)
        return verified_phone or None

    def linked_conversations(self, conversation_id: str) -> list[LinkedConversation]:
        """Every linked conversation of the customer(s) behind ``conversation_id``, newest
        first, this one included; empty if it was never linked."""
        with self.engine.connect() as connection:
            customers = select(channel_identities.c.customer).where(
                channel_identities.c.identity == conversation_id
            )
            rows = connection.execute(
                select(channel_identities)
                .where(channel_identities.c.customer.in_(customers))
                .order_by(channel_identities.c.last_verified_at.desc())
            ).mappings()
            return [_conversation(row) for row in rows]

    def conversations_of(self, customer: str) -> list[LinkedConversation]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(channel_identities)
                .where(channel_identities.c.customer == customer)
                .order_by(channel_identities.c.last_verified_at.desc())
            ).mappings()
            return [_conversation(row) for row in rows]


def _conversation(row: RowMapping) -> LinkedConversation:
    return LinkedConversation(
        channel=row["channel"],
        conversation_id=row["identity"],
        customer=row["customer"],
        order_number=row["order_number"],
        first_linked_at=row["first_linked_at"],
        last_verified_at=row["last_verified_at"],
    )


class OrderReports(Protocol):
    async def report(self, lookup: OrderLookup) -> OrderReport: ...


class CustomerLinks:
    """What the actions use: verify an order and link the identity; the contact to reuse.

    The store's tables are created on first use (I/O, so not at construction). A database
    error is logged and treated as "no link": the customer is asked, never left without an
    answer."""

    def __init__(self, store: IdentityStore, desk: OrderReports) -> None:
        self.store = store
        self.desk = desk
        self._ready = False

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        def work() -> Any:
            if not self._ready:
                self.store.create_schema()
                self._ready = True
            return call(*args)

        return await asyncio.to_thread(work)

    async def report(self, lookup: OrderLookup, who: ChannelIdentity) -> OrderReport:
        """``desk.report(lookup)``; on success the identity is linked to the order's customer.
        Raises whatever the desk raises (``OrderNotFound``, ``BackendError``)."""
        report = await self.desk.report(lookup)
        if self.store.trusts(who):
            contact = lookup.email or lookup.phone or ""
            try:
                await self._run(self.store.link, who, report.order, contact)
            except SQLAlchemyError:
                logger.exception("Could not link %s to its customer", who.channel)
        return report

    async def known_contact(self, who: ChannelIdentity, verified_phone: str | None) -> str | None:
        if not self.store.trusts(who):
            return verified_phone or None
        try:
            result = await self._run(self.store.known_contact, who, verified_phone)
        except SQLAlchemyError:
            logger.exception("Could not read the links of %s", who.channel)
            return verified_phone or None
        return str(result) if result else None

    async def linked_conversations(self, conversation_id: str) -> list[LinkedConversation]:
        result = await self._run(self.store.linked_conversations, conversation_id)
        return list(result)
