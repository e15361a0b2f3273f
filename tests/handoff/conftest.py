"""Fixtures for the handoff tests: the demo teams and a ticket database on SQLite and PostgreSQL.

PostgreSQL runs in a throw-away schema of the ``test`` database and is skipped, with the start
command, when nothing answers on loopback. Point it elsewhere with BORDERLESS_TEST_POSTGRES_URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from borderless.handoff.teams import Team, load_teams

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
