"""Fixtures for the handoff tests: the demo teams and a ticket database on SQLite and PostgreSQL.

PostgreSQL runs in a throw-away schema of the ``test`` database and is skipped, with the start
command, when nothing answers on loopback. Point it elsewhere with BORDERLESS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from borderless import launcher, training
from borderless.handoff.teams import Team, load_teams
from borderless.handoff.tickets import Ticket, TicketStore
from tests.e2e.test_rest import TOKEN, Bot

TEAMS_FILE = Path(__file__).resolve().parents[2] / "demo" / "teams.yml"


@pytest.fixture(scope="session")
def teams() -> tuple[Team, ...]:
    return load_teams(TEAMS_FILE)


@pytest.fixture(scope="session")
def team(teams: tuple[Team, ...]) -> dict[str, Team]:
    return {t.key: t for t in teams}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    return str(request.getfixturevalue("postgres_url"))


@contextmanager
def console_stack(log_dir: Path, **overrides: str) -> Iterator[Bot]:
    """The whole stack with the console desk (shop, actions, Rasa with the trained model,
    console) on free ports, as a ``Bot`` that also knows the handoff and tracker databases."""
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    settings = {
        "SHOP_API_TOKEN": "e2e-shop-token",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
        "HANDOFF_DESK": "console",
        **overrides,
    }
    with launcher.stack(settings, log_dir) as env:
        bot = Bot(env["RASA_URL"], env["CONSOLE_URL"])
        bot.handoff_database_url = env["HANDOFF_DATABASE_URL"]  # type: ignore[attr-defined]
        bot.tracker_db = env["TRACKER_STORE_URL"].removeprefix("sqlite:///")  # type: ignore[attr-defined]
        yield bot


def ticket_of(bot: Bot, customer: str) -> Ticket:
    """The ticket the customer's conversation holds (its ``handoff_ticket`` slot)."""
    ticket_id = bot.tracker(customer)["slots"]["handoff_ticket"]
    assert ticket_id, bot.tracker(customer)["slots"]
    store = TicketStore(bot.handoff_database_url)  # type: ignore[attr-defined]
    try:
        return store.get(int(ticket_id))
    finally:
        store.dispose()
