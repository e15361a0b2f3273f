"""Issue #5's "done when", through the REST channel and the console, with the clock of the real
world: teams files written for the test make "in hours" and "out of hours" true whenever it runs.

In hours (a Berlin team on duty around the clock): an English and a German customer, one asking
for a person and one furious, reach that team. Out of hours (the same team closed today and the
next two days): both are told honestly, in their language, by when a colleague will reply; the
ticket waits in the queue, an agent takes it from the console, replies, hands back, and the bot
answers again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from borderless.handoff.tickets import Ticket
from tests.e2e.test_rest import Agent, Bot, new_sender
from tests.handoff.conftest import console_stack, ticket_of

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")


def teams_file(directory: Path, closed_days: int) -> Path:
    """One team, Berlin (de, en), on duty 24/7 except ``closed_days`` days from today on."""
    today = datetime.now(BERLIN).date()
    team = {
        "name": "Berlin",
        "languages": ["de", "en"],
        "timezone": "Europe/Berlin",
        "hours": {"mon-sun": "00:00-24:00"},
        # Yesterday too: near midnight the bot's "now" may still be on the other side of it.
        "closed": [str(today + timedelta(days=d)) for d in range(-1, closed_days)]
        if closed_days
        else [],
    }
    path = directory / "teams.yml"
    path.write_text(yaml.safe_dump({"teams": {"berlin": team}}), encoding="utf-8")
    return path


@contextmanager
def running(tmp: Path, closed_days: int) -> Iterator[Bot]:
    with console_stack(tmp, TEAMS_FILE=str(teams_file(tmp, closed_days))) as bot:
        yield bot


CUSTOMERS = [
    # (language, asks for a person, furious)
    ("en", "I want to talk to a real person please", "WHERE IS MY PARCEL?? THIS IS A SCAM!!!"),
    (
        "de",
        "Ich möchte bitte mit einem Mitarbeiter sprechen",
        "WO IST MEIN PAKET?? DAS IST EINE FRECHHEIT!!!",
    ),
]
IN_HOURS = {"en": "our team in Berlin", "de": "unserem Team in Berlin"}
OUT_OF_HOURS = {"en": "isn't available right now", "de": "gerade nicht erreichbar"}
LOCAL_TIME = {"en": "(your time)", "de": "(Ihre Ortszeit)"}


def test_in_hours_both_reach_the_team_on_duty(tmp_path: Path) -> None:
    with running(tmp_path, closed_days=0) as bot:
        for language, asks, furious in CUSTOMERS:
            for message, reason in ((asks, "request_human"), (furious, "frustration")):
                customer = new_sender()
                handover = bot.text(customer, message)
                assert IN_HOURS[language] in handover, (language, message, handover)
                ticket = ticket_of(bot, customer)
                assert (ticket.team, ticket.language, ticket.reason) == (
                    "Berlin",
                    language,
                    reason,
                ), ticket
                assert bot.tracker(customer)["paused"]


def test_out_of_hours_an_honest_promise_then_an_agent_and_the_bot_again(tmp_path: Path) -> None:
    with running(tmp_path, closed_days=3) as bot:
        held: list[tuple[str, str, Ticket]] = []
        for language, asks, furious in CUSTOMERS:
            for message in (asks, furious):
                customer = new_sender()
                promise = bot.text(customer, message)
                assert OUT_OF_HOURS[language] in promise, (language, message, promise)
                assert LOCAL_TIME[language] in promise, promise
                ticket = ticket_of(bot, customer)
                assert ticket.status == "queued" and ticket.language == language, ticket
                held.append((language, customer, ticket))
        # The furious customers rank above the plain requests in the queue.
        by_customer = {customer: ticket for _, customer, ticket in held}
        plain = [by_customer[c] for lang, c, _ in held[0::2]]
        upset = [by_customer[c] for lang, c, _ in held[1::2]]
        assert min(t.priority for t in upset) > max(t.priority for t in plain)

        # The next morning an agent takes the German request from the queue.
        language, customer, ticket = held[2]
        assert language == "de"
        agent = Agent(bot.console_url, "mia", "demo-password")
        assert f'data-ticket="{ticket.id}"' in agent.get("/")
        agent.act(str(ticket.id), "take")
        agent.act(str(ticket.id), "reply", text="Guten Morgen, hier ist Mia. Wie kann ich helfen?")
        events = bot.tracker(customer)["events"]
        assert "Guten Morgen, hier ist Mia. Wie kann ich helfen?" in [
            e.get("text") for e in events if e["event"] == "bot"
        ]
        agent.act(str(ticket.id), "resolve")
        assert not bot.tracker(customer)["paused"]
        assert "Bestellnummer" in bot.text(customer, "Wo ist meine Bestellung?")
