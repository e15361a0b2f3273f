"""Fixtures for the handoff tests: the demo teams and a ticket database on SQLite and PostgreSQL.

PostgreSQL runs in a throw-away schema of the ``test`` database and is skipped, with the start
command, when nothing answers on loopback. Point it elsewhere with BORDERLESS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from borderless.handoff.teams import Team, load_teams

TEAMS_FILE = Path(__file__).resolve().parents[2] / "demo" / "teams.yml"
POSTGRES_URL = os.environ.get(
    "BORDERLESS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
START_HINT = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


@pytest.fixture(scope="session")
def teams() -> tuple[Team, ...]:
    return load_teams(TEAMS_FILE)


@pytest.fixture(scope="session")
def team(teams: tuple[Team, ...]) -> dict[str, Team]:
    return {t.key: t for t in teams}


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose search_path is a fresh, uniquely named schema, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3}, future=True)
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        reason = str(exc.orig).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({reason}); start: {START_HINT}")
    name = f"borderless_handoff_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={name}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handoff.db'}"
    return str(request.getfixturevalue("postgres_url"))
