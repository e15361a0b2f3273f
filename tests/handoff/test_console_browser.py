"""The agent console in a real browser, against the real stack: a customer asks for a person
through the REST channel, an agent works the ticket in Debian's Chromium, the bot takes over again.

Everything runs for real: the shop, the action server, Rasa with the trained model and the
console, each on a free loopback port with temporary databases (``borderless.launcher.stack``,
as ``make run`` starts them). Screenshots of every step land in the test's temporary directory
(``screenshots/``), so a failure can be looked at, not only read.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_rest import Agent, Bot, new_sender
from tests.handoff.conftest import console_stack, ticket_of

pytestmark = pytest.mark.e2e

PASSWORD = "demo-password"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    with console_stack(tmp_path_factory.mktemp("browser-stack")) as stacked:
        yield stacked


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


# ------------------------------------------------------------------------------------------
# Without the browser, on the same stack: triggers and session expiry through the real Rasa


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("If my parcel does not come this week I will file a chargeback", "chargeback"),
        ("Ich schalte jetzt meinen Anwalt ein, wo ist meine Bestellung?", "legal"),
        ("充電器が発火しました", "safety"),
        ("WHERE IS MY PARCEL, THIS IS A SCAM!!!", "frustration"),
    ],
)
def test_sensitive_and_furious_messages_hand_over_by_themselves(
    bot: Bot, message: str, reason: str
) -> None:
    customer = new_sender()
    replies = bot.say(customer, message)
    assert replies, "the customer is told what happens next"
    tracker = bot.tracker(customer)
    assert tracker["paused"]
    ticket = ticket_of(bot, customer)
    assert ticket.reason == reason
    assert ticket.priority >= 200  # sensitive (400) or upset (200): ahead of plain requests


def test_a_verified_big_order_makes_the_ticket_vip(bot: Bot, shop_orders: dict) -> None:
    from borderless.handoff.triggers import load_rules
    from borderless.settings import Settings

    vip = load_rules(Settings().handoff_rules_file).vip
    number, order = next(
        (n, o)
        for n, o in shop_orders.items()
        if o.get("email") and o.get("currency") in vip.rates and _total(o, vip) >= vip.order_value
    )
    customer = new_sender()
    answer = bot.text(customer, f"where is my order {number}? my email is {order['email']}")
    assert number in answer, answer
    assert bot.tracker(customer)["slots"]["verified_order_facts"]["currency"] == order["currency"]
    bot.text(customer, "I want to talk to a person")
    ticket = ticket_of(bot, customer)
    assert ticket.vip and "order value" in ticket.summary["vip"]


def _total(order: dict[str, Any], vip: Any) -> Any:
    from decimal import Decimal

    items = sum(Decimal(str(i["unit_price"])) * int(i["quantity"]) for i in order["items"])
    total = items + Decimal(str(order.get("shipping_fee") or "0"))
    return vip.in_shop_currency(total, order["currency"])


def test_an_expired_session_does_not_free_a_conversation_an_agent_holds(bot: Bot) -> None:
    """Rasa starts a new session after 60 idle minutes; the agent must keep the conversation."""
    customer = new_sender()
    bot.text(customer, "I want to talk to a real person please")
    ticket = bot.tracker(customer)["slots"]["handoff_ticket"]
    agent = Agent(bot.console_url, "mia", PASSWORD)
    agent.act(ticket, "take")

    def idle_for_two_hours() -> None:
        # Rasa measures the session against the last user message's timestamp, read from the
        # SQL tracker store (ordered by timestamp): move the whole conversation two hours back.
        with sqlite3.connect(bot.tracker_db) as db:  # type: ignore[attr-defined]
            db.execute(
                "UPDATE events SET timestamp = timestamp - 7200, data = json_set(data,"
                " '$.timestamp', json_extract(data, '$.timestamp') - 7200) WHERE sender_id = ?",
                (customer,),
            )

    idle_for_two_hours()
    assert bot.say(customer, "hello, anyone still there?") == []
    tracker = bot.tracker(customer)
    assert tracker["paused"], "a new session must not un-pause a held conversation"
    assert [e["event"] for e in tracker["events"]].count("session_started") >= 2
    assert tracker["slots"]["handoff_ticket"] == ticket
    assert "hello, anyone still there?" in agent.get(f"/tickets/{ticket}")

    agent.act(ticket, "resolve")
    idle_for_two_hours()
    assert "order number" in bot.text(customer, "where is my order?")
