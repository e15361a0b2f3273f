"""The agent console in a real browser, against the real stack: a customer asks for a person
through the REST channel, an agent works the ticket in Debian's Chromium, the bot takes over again.

Everything runs for real: the shop, the action server, Rasa with the trained model and the
console, each on a free loopback port with temporary databases (``borderless.launcher.stack``,
as ``make run`` starts them). Screenshots of every step land in the test's temporary directory
(``screenshots/``), so a failure can be looked at, not only read.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from borderless import launcher, training
from tests.e2e.test_rest import TOKEN, Bot, new_sender

pytestmark = pytest.mark.e2e

PASSWORD = "demo-password"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    overrides = {
        "SHOP_API_TOKEN": "e2e-shop-token",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
        "HANDOFF_DESK": "console",
    }
    with launcher.stack(overrides, tmp_path_factory.mktemp("browser-stack")) as env:
        yield Bot(env["RASA_URL"], env["CONSOLE_URL"])


def bot_texts(tracker: dict[str, Any]) -> list[str]:
    return [str(e.get("text")) for e in tracker["events"] if e["event"] == "bot" and e.get("text")]


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    """Poll ``check()`` until it returns something truthy (the console writes asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.3)


def log_in(page: Any, console_url: str, username: str = "mia") -> None:
    page.goto(console_url + "/")
    assert "/login" in page.url  # every page needs a login
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Open tickets')")


def work_the_ticket(
    page: Any,
    bot: Bot,
    customer: str,
    ticket: str,
    *,
    shot_prefix: str,
    summary_shows: tuple[str, ...],
    while_open: str,
    reply: str,
) -> None:
    """Queue → ticket → take → live customer message → reply → resolve, with screenshots."""
    page.goto(bot.console_url + "/")
    row = page.locator(f"tr[data-ticket='{ticket}']")
    row.wait_for()
    page.shot(f"{shot_prefix}-1-queue")
    row.locator("a").first.click()
    page.wait_for_selector(f"h1:has-text('Ticket {ticket}')")
    fields = page.locator("section.card").first.inner_text()
    for shown in summary_shows:
        assert shown in fields, fields
    page.shot(f"{shot_prefix}-2-ticket")

    page.click("button.take")
    page.wait_for_selector("#status:has-text('assigned')")
    assert "Mia Schneider" in page.locator("#agent").inner_text()

    # The customer writes while the page is open: the bot stays silent, the page shows it
    # within a poll (3 s) without a reload.
    assert bot.say(customer, while_open) == []
    page.locator("#transcript li", has_text=while_open).wait_for(timeout=10_000)
    page.shot(f"{shot_prefix}-3-live-update")

    page.fill("#reply-text", reply)
    page.click("form.reply button[type=submit]")
    page.locator("#messages li.from-agent", has_text=reply).wait_for()
    # The reply went out as a bot turn through the customer's channel (REST: into the tracker).
    assert reply in bot_texts(bot.tracker(customer))
    page.shot(f"{shot_prefix}-4-replied")

    page.click("button.resolve")
    page.wait_for_selector("#status:has-text('resolved')")
    page.shot(f"{shot_prefix}-5-resolved")
    tracker = bot.tracker(customer)
    assert not tracker["paused"]
    assert tracker["slots"]["handoff_ticket"] is None


def test_an_agent_works_english_and_german_handoffs_in_the_browser(
    bot: Bot, browser_page: Any
) -> None:
    page = browser_page
    english, german = new_sender(), new_sender()

    handover = bot.text(english, "I want to talk to a real person please")
    assert "colleague" in handover or "team" in handover, handover
    english_ticket = bot.tracker(english)["slots"]["handoff_ticket"]
    assert english_ticket
    assert bot.say(english, "hello? is anyone there?") == []  # paused: logged, not answered

    handover = bot.text(german, "Ich möchte bitte mit einem Mitarbeiter sprechen")
    assert bot.tracker(german)["slots"]["language"] == "de", handover
    german_ticket = bot.tracker(german)["slots"]["handoff_ticket"]
    assert german_ticket and german_ticket != english_ticket

    log_in(page, bot.console_url)
    queue = page.locator("table.queue").inner_text()
    assert re.search(r"request human", queue), queue

    work_the_ticket(
        page,
        bot,
        english,
        english_ticket,
        shot_prefix="en",
        summary_shows=("en", "rest", "request human"),
        while_open="Are you still there? My parcel never arrived",
        reply="Hi, this is Mia from the team. I am checking your parcel now.",
    )
    # The paused-time messages are in the transcript the agent read.
    transcript = page.locator("#transcript").inner_text()
    assert "hello? is anyone there?" in transcript
    assert "Are you still there? My parcel never arrived" in transcript
    # The bot is back: the hand-back question went out, and it answers the next message itself.
    assert wait_for(lambda: len(bot_texts(bot.tracker(english))) > 0)
    assert "order number" in bot.text(english, "where is my order?")

    work_the_ticket(
        page,
        bot,
        german,
        german_ticket,
        shot_prefix="de",
        summary_shows=("de", "rest"),
        while_open="Hallo? Ist da jemand?",
        reply="Guten Tag, hier ist Mia. Ich kümmere mich um Ihr Anliegen.",
    )
    assert "Bestellnummer" in bot.text(german, "Wo ist meine Bestellung?")
    page.goto(bot.console_url + "/")
    for ticket in (english_ticket, german_ticket):
        assert page.locator(f"tr[data-ticket='{ticket}']").count() == 0  # off the queue
    page.shot("queue-empty-again")


def test_the_console_asks_for_a_login_and_refuses_a_wrong_password(
    bot: Bot, browser_page: Any
) -> None:
    page = browser_page
    page.goto(bot.console_url + "/tickets/1")
    assert "/login" in page.url
    page.fill("input[name=username]", "mia")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("p.error")
    assert "Wrong username or password." in page.locator("p.error").inner_text()
    page.shot("login-refused")
