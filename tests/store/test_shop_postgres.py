"""The same shop on PostgreSQL, in a throw-away schema of the ``test`` database.

Skipped, with instructions, when no PostgreSQL answers on loopback. Point it elsewhere with
BORDERLESS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from borderless.commerce.models import OrderLookup, OrderStatus
from borderless.commerce.reference import ReferenceShop
from borderless.store.repository import ShopRepository
from borderless.store.schema import make_engine
from borderless.store.seed import seed

FIXTURE = Path(__file__).resolve().parents[2] / "demo" / "orders.yml"


def test_seed_and_queries_on_postgres(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    now = datetime(2025, 3, 14, 10, 45, tzinfo=timezone.utc)
    try:
        assert seed(engine, FIXTURE, now=now).orders >= 22
        assert seed(engine, FIXTURE, now=now).skipped
        repository = ShopRepository(engine)
        order = repository.find_verified(OrderLookup("bl-10004", phone="+81 90 1234 5678"))
        assert order.status is OrderStatus.DELIVERED
        assert order.total == Decimal("18560")  # 12800 + 2 * 1980 + 1800, JPY has no decimals
        assert str(order.items[1].unit_price) == "1980"
        assert order.placed_at == datetime(2025, 3, 2, 3, 25, tzinfo=timezone.utc)
        tracking = repository.find_tracking("japan post", "EA381947265CN")
        assert tracking.checkpoints[-1].time.tzinfo is not None
        assert tracking.status.value == "delivered"
        with engine.connect() as conn:  # really in the throw-away schema, not in public
            schema_name = conn.execute(text("select current_schema()")).scalar_one()
        assert schema_name.startswith("borderless_test_")
    finally:
        engine.dispose()


async def test_service_on_postgres(postgres_url: str, start_shop: Callable[[str], Any]) -> None:
    service = start_shop(postgres_url)
    shop = ReferenceShop(service.base_url, service.api_token)
    try:
        order = await shop.find_verified(OrderLookup("BL-10001", email="anna.schmidt@example.de"))
        assert order.total == Decimal("102.30")
        tracking = await shop.track("DHL", order.shipments[0].tracking_number)
        assert tracking.status.value == "in_transit"
    finally:
        await shop.close()
