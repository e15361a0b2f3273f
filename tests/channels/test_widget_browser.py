"""The web widget in Debian's Chromium, on the demo storefront, against the whole stack.

The stack is the one ``make run`` starts (shop, action server, Rasa with the trained model,
console, storefront), on free ports with temporary databases. Real conversations through the
widget: English step by step with a button tap, Arabic right to left with Arabic replies, a
reload that keeps the conversation (on the page and on the server), keyboard use. Screenshots
land in the test's tmp dir (``screenshots/``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from borderless import launcher, training
from borderless.handoff.rasa_api import RasaHttpApi

pytestmark = pytest.mark.e2e

TOKEN = "widget-e2e-token"
ARABIC = re.compile(r"[\u0600-\u06FF]")
WIDGET = "#borderless-widget"
BOT_TEXTS = f"{WIDGET} .bl-item-bot .bl-message"
USER_TEXTS = f"{WIDGET} .bl-item-user .bl-message"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    model = Path(os.environ.get("RASA_TEST_MODEL") or training.model_path())
    if not model.exists():
        pytest.fail(f"no trained model at {model}: run `make train` (make test does it first)")
    overrides = {
        "SHOP_API_TOKEN": "widget-e2e-shop-token",
        "RASA_AUTH_TOKEN": TOKEN,
        "RASA_MODEL": str(model),
    }
    with launcher.stack(overrides, tmp_path_factory.mktemp("widget-stack")) as env:
        yield env


def tracker(env: dict[str, str], sender: str) -> dict[str, Any]:
    url = f"{env['RASA_URL']}/conversations/{sender}/tracker?token={TOKEN}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return dict(json.load(response))


def bot_texts(page: Any) -> list[str]:
    return [str(t) for t in page.locator(BOT_TEXTS).all_inner_texts()]


def say(page: Any, text: str, expect: str | re.Pattern[str]) -> str:
    """Type ``text`` and press Enter; wait for a new bot message matching ``expect``; return
    all bot text that arrived for it."""
    before = len(bot_texts(page))
    page.locator(f"{WIDGET} .bl-input").fill(text)
    page.keyboard.press("Enter")
    return wait_for_reply(page, before, expect)


def wait_for_reply(page: Any, before: int, expect: str | re.Pattern[str]) -> str:
    pattern = expect if isinstance(expect, re.Pattern) else re.compile(re.escape(expect))
    page.wait_for_function(
        "([selector, before]) => document.querySelectorAll(selector).length > before",
        arg=[BOT_TEXTS, before],
        timeout=30_000,
    )
    for _ in range(60):  # a turn's messages arrive one after another
        new = "\n".join(bot_texts(page)[before:])
        if pattern.search(new):
            return new
        page.wait_for_timeout(250)
    raise AssertionError(f"no reply matching {pattern.pattern!r}; got: {new!r}")


def open_widget(page: Any, url: str) -> None:
    page.goto(url)
    launcher_button = page.locator(f"{WIDGET} .bl-launcher")
    launcher_button.wait_for()
    assert launcher_button.get_attribute("aria-expanded") == "false"
    launcher_button.click()
    assert launcher_button.get_attribute("aria-expanded") == "true"
    # Focus goes to the message field, so the customer can type at once.
    assert page.evaluate("document.activeElement.classList.contains('bl-input')")


def session_id(page: Any) -> str:
    return str(page.evaluate("window.Borderless.state().sessionId"))


def test_english_conversation_with_a_button_and_a_reload(
    stack: dict[str, str], browser_page: Any
) -> None:
    page = browser_page
    open_widget(page, f"{stack['STOREFRONT_URL']}/?lang=en")
    assert page.locator(f"{WIDGET} .bl-log").get_attribute("role") == "log"
    assert page.locator(f"{WIDGET} .bl-log").get_attribute("aria-live") == "polite"
    assert page.locator(f"{WIDGET}").get_attribute("dir") == "ltr"
    page.shot("01-en-open")

    assert "order number" in say(page, "Hi, where is my order?", "order number")
    assert "email" in say(page, "BL-10001", "email")
    answer = say(page, "anna.schmidt@example.de", "Expected delivery")
    assert "BL-10001" in answer and "Germany" in answer and "DHL" in answer
    # The tracking link is a real link that opens in a new tab.
    link = page.locator(f"{BOT_TEXTS} a").first
    assert link.get_attribute("href", timeout=5_000).startswith("https://")
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.shot("02-en-order-status")

    # Three lookups that match nothing: the bot offers a person, with buttons.
    for attempt in range(3):
        reply = say(page, f"my order BL-1000{attempt + 2} email wrong{attempt}@example.com", "find")
    assert "couldn't find an order" in reply
    buttons = page.locator(f"{WIDGET} .bl-choice:not([disabled])")
    buttons.first.wait_for()
    assert buttons.all_inner_texts() == ["Yes, please", "No, thanks"]
    page.shot("03-en-buttons")
    before = len(bot_texts(page))
    page.get_by_role("button", name="No, thanks").click()
    wait_for_reply(page, before, re.compile(r"\S"))
    assert page.locator(USER_TEXTS).last.inner_text().endswith("No, thanks")
    assert page.locator(f"{WIDGET} .bl-choice:not([disabled])").count() == 0
    sender = session_id(page)
    events = tracker(stack, sender)["events"]
    user_events = [e for e in events if e["event"] == "user"]
    assert user_events[-1]["text"] == "/deny"  # the payload went to Rasa, the title was shown
    assert user_events[0]["input_channel"] == "socketio"
    assert user_events[0]["metadata"]["language"] == "en"  # the page's <html lang>, once
    assert "language" not in user_events[1]["metadata"]
    page.shot("04-en-after-button")

    # Reload: same session, same conversation on the page, and the bot carries on.
    shown = bot_texts(page)
    page.reload()
    page.locator(BOT_TEXTS).first.wait_for()
    assert session_id(page) == sender
    assert bot_texts(page) == shown
    assert page.locator(f"{WIDGET} .bl-panel").is_visible()
    page.locator(f"{WIDGET} .bl-input").click()
    assert "email" in say(page, "Where is my order BL-10003?", "email")
    page.shot("05-en-after-reload")
    assert (
        len([e for e in tracker(stack, sender)["events"] if e["event"] == "user"])
        == len(user_events) + 1
    )

    # "New conversation": an empty transcript and a new session on the server.
    page.get_by_role("button", name="New conversation").click()
    assert page.locator(BOT_TEXTS).count() == 0
    say(page, "Hello", re.compile(r"\S"))
    assert session_id(page) not in ("None", sender)
    assert len([e for e in tracker(stack, session_id(page))["events"] if e["event"] == "user"]) == 1

    # Keyboard: Escape closes the panel and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    assert page.locator(f"{WIDGET} .bl-launcher").get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('bl-launcher')")


def test_arabic_page_is_right_to_left_and_the_bot_answers_in_arabic(
    stack: dict[str, str], browser_page: Any
) -> None:
    page = browser_page
    open_widget(page, f"{stack['STOREFRONT_URL']}/?lang=ar")
    widget = page.locator(WIDGET)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert widget.get_attribute("dir") == "rtl" and widget.get_attribute("lang") == "ar"
    assert page.locator(f"{WIDGET} .bl-send").inner_text() == "إرسال"
    # Mirrored: the widget sits at the bottom left of an Arabic page.
    box = page.locator(f"{WIDGET} .bl-launcher").bounding_box()
    assert box is not None and box["x"] < 200
    assert (
        page.evaluate("getComputedStyle(document.querySelector('#borderless-widget')).direction")
        == "rtl"
    )

    # The page's language is the hint: a short "hello" gets an Arabic answer.
    reply = say(page, "مرحبا، أين طلبي؟", ARABIC)
    assert ARABIC.search(reply) and "order number" not in reply
    page.shot("01-ar-first-reply")
    reply = say(page, "BL-10001", ARABIC)
    assert "البريد الإلكتروني" in reply
    reply = say(page, "anna.schmidt@example.de", "BL-10001")
    assert ARABIC.search(reply) and "ألمانيا" in reply
    page.shot("02-ar-order-status")

    page.reload()
    page.locator(BOT_TEXTS).first.wait_for()
    assert "ألمانيا" in "\n".join(bot_texts(page))
    assert page.locator(WIDGET).get_attribute("dir") == "rtl"
    page.shot("03-ar-after-reload")

    # One customer across channels: this widget session proved Anna's email, so her other
    # order is answered without asking for it again.
    page.locator(f"{WIDGET} .bl-input").click()
    reply = say(page, "وأين طلبي BL-10013؟", "BL-10013")
    assert "البريد الإلكتروني" not in reply and ARABIC.search(reply)
    page.shot("04-ar-second-order-not-asked-again")


def test_an_agents_reply_from_the_console_reaches_the_open_widget(
    stack: dict[str, str], browser_page: Any
) -> None:
    """The console sends an agent's text as the conversation's channel (``latest``): for a
    widget conversation that is the socket.io channel, and the open page shows it."""
    page = browser_page
    open_widget(page, f"{stack['STOREFRONT_URL']}/?lang=de")
    say(page, "Guten Tag", re.compile(r"\S"))
    sender = session_id(page)
    before = len(bot_texts(page))

    async def reply() -> None:
        api = RasaHttpApi(stack["RASA_URL"], TOKEN, timeout=10)
        await api.send_agent_message(sender, "Hier ist Mia vom Kundenservice.")

    # Playwright's sync API owns this thread's event loop: the console client runs in another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, reply()).result(timeout=30)
    assert "Mia" in wait_for_reply(page, before, "Hier ist Mia")
    page.shot("01-de-agent-reply")
    page.reload()
    page.locator(BOT_TEXTS).first.wait_for()
    assert bot_texts(page)[-1].endswith("Hier ist Mia vom Kundenservice.")
