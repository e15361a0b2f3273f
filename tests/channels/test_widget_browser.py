"""The web widget in Debian's Chromium, on the demo storefront, against the whole stack.

The stack is the one ``make run`` starts (shop, action server, Rasa with the trained model,
console, storefront), on free ports with temporary databases. Real conversations through the
widget: English step by step with a button tap, Arabic right to left with Arabic replies, a
reload that keeps the conversation (on the page and on the server), keyboard use, and the
rating at the end of a conversation (after a goodbye, after an agent's hand-back) that the
trainer workbench of the same stack then finds. Screenshots land in the test's tmp dir
(``screenshots/``).
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
from tests.workbench.conftest import TrainerClient

pytestmark = pytest.mark.e2e

TOKEN = "widget-e2e-token"
ARABIC = re.compile(r"[\u0600-\u06FF]")
WIDGET = "#borderless-widget"
BOT_TEXTS = f"{WIDGET} .bl-item-bot .bl-message"
USER_TEXTS = f"{WIDGET} .bl-item-user .bl-message"
RATING = f"{WIDGET} .bl-rating"
STARS = f"{RATING} .bl-star"


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


def csat_values(env: dict[str, str], sender: str) -> list[Any]:
    events = tracker(env, sender)["events"]
    return [e["value"] for e in events if e["event"] == "slot" and e["name"] == "csat"]


def focused_star(page: Any) -> int:
    """1-5 for the star button that has the focus, 0 for anything else."""
    return int(
        page.evaluate(
            f"Array.from(document.querySelectorAll({STARS!r})).indexOf(document.activeElement) + 1"
        )
    )


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

    # Goodbye: the rating, in Arabic and right to left; "next star" is the left arrow there.
    assert page.locator(RATING).count() == 0
    say(page, "مع السلامة", ARABIC)
    card = page.locator(RATING)
    card.wait_for()
    assert card.get_attribute("lang") == "ar" and card.get_attribute("dir") == "rtl"
    assert card.locator(".bl-rating-question").inner_text() == "كيف تُقيّم هذه المحادثة؟"
    first, second = (page.locator(STARS).nth(i).bounding_box() for i in (0, 1))
    assert first is not None and second is not None and second["x"] < first["x"]
    page.locator(STARS).first.focus()
    page.keyboard.press("ArrowLeft")
    assert focused_star(page) == 2
    page.shot("05-ar-rating")


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
    assert page.locator(RATING).count() == 0

    # The agent resolves: the bot takes over again, and the customer is asked for a rating.
    async def resolve() -> None:
        api = RasaHttpApi(stack["RASA_URL"], TOKEN, timeout=30)
        await api.resume(sender)
        await api.trigger_intent(sender, "EXTERNAL_handoff_resolved")

    before = len(bot_texts(page))
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, resolve()).result(timeout=60)
    wait_for_reply(page, before, "Da bin ich wieder")
    question = page.locator(f"{RATING} .bl-rating-question")
    assert question.inner_text() == "Wie bewerten Sie dieses Gespräch?"
    page.shot("02-de-rating-after-hand-back")


def test_a_customer_rates_the_conversation_at_its_end_and_trainers_find_a_low_rating(
    stack: dict[str, str], browser_page: Any
) -> None:
    page = browser_page
    open_widget(page, f"{stack['STOREFRONT_URL']}/?lang=fr")
    say(page, "Bonjour", re.compile(r"\S"))
    say(page, "Vous êtes un robot ?", re.compile(r"\S"))
    # Nothing pops up in the middle of a conversation.
    assert page.locator(RATING).count() == 0
    say(page, "Au revoir et bonne journée", "Merci de nous avoir écrit")
    sender = session_id(page)
    card = page.locator(RATING)
    card.wait_for()
    assert card.locator(".bl-rating-question").inner_text() == (
        "Comment évaluez-vous cette conversation ?"
    )
    group = card.get_by_role("group", name="Comment évaluez-vous cette conversation ?")
    labels = [b.get_attribute("aria-label") for b in group.get_by_role("button").all()]
    assert labels == ["1 étoile : très mauvaise", "2 étoiles : mauvaise", "3 étoiles : correcte",
                      "4 étoiles : bonne", "5 étoiles : excellente"]  # fmt: skip
    page.shot("01-fr-rating")

    # From the keyboard: arrows and Home within the stars, Enter rates.
    page.locator(STARS).nth(2).focus()
    page.keyboard.press("Home")
    assert focused_star(page) == 1
    page.keyboard.press("Enter")
    card.get_by_text("Merci pour votre avis !").wait_for()
    assert page.locator(f"{STARS}[aria-pressed='true']").count() == 1
    assert page.locator(STARS).first.get_attribute("aria-pressed") == "true"
    assert page.locator(f"{STARS}:disabled").count() == 5
    assert csat_values(stack, sender) == [1]
    page.shot("02-fr-rated")

    # Once per session: a reload shows the rating given; another goodbye asks no more.
    page.reload()
    card.get_by_text("Merci pour votre avis !").wait_for()
    page.locator(f"{WIDGET} .bl-input").click()
    say(page, "au revoir", "Merci de nous avoir écrit")
    page.wait_for_timeout(500)
    assert page.locator(RATING).count() == 1
    assert csat_values(stack, sender) == [1]

    # The trainer workbench of the same stack lists it under "low CSAT".
    lena = TrainerClient(stack["WORKBENCH_URL"])
    assert lena.login("lena") == 200
    status, body = lena.get("/api/conversations?outcome=csat_low")
    assert status == 200, body
    rated = [c for c in body["conversations"] if c["sender_id"] == sender]
    assert rated and rated[0]["csat"] == 1 and "csat_low" in rated[0]["outcomes"]
    status, body = lena.get("/api/conversations?outcome=csat_low&language=de")
    assert sender not in {c["sender_id"] for c in body["conversations"]}
