"""A trainer in Debian's Chromium: logs in, fixes the intent and an entity of a misunderstood
German message with the keyboard and a text selection, exports, and sees the YAML change; and
marks entities in Japanese (no spaces) and right-to-left Arabic text."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workbench.conftest import PASSWORD, Stack, Workbench

pytestmark = pytest.mark.e2e

SELECT = """([needle]) => {
  const element = document.getElementById("text");
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    const at = node.textContent.indexOf(needle);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      return true;
    }
  }
  return false;
}"""


def log_in(page: Any, workbench: Workbench, username: str) -> None:
    page.goto(workbench.url + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('Inbox')")


def test_trainer_fixes_intent_and_entity_then_exports(
    browser_page: Any, workbench: Workbench, stack: Stack
) -> None:
    page = browser_page
    log_in(page, workbench, "lena")
    page.shot("01-inbox")
    turn = workbench.client("lena").get(f"/api/conversations/{stack.senders['de_misunderstood']}")[
        1
    ]["turns"][1]
    intent = "complaint" if turn["top_intent"] != "complaint" else "order_status"
    page.goto(f"{workbench.url}/annotate/{turn['event_id']}")
    text = page.inner_text("#text")
    assert "[order]" in text and "BL-10001" not in text  # lena may not see personal data
    # Keyboard: i focuses the intent menu; the trainer picks, Escape leaves the menu.
    page.keyboard.press("i")
    assert page.evaluate("document.activeElement.id") == "intent"
    page.select_option("#intent", intent)
    page.keyboard.press("Escape")
    # Remove what the assistant found, select "Zoll" with the mouse's Selection API, mark it.
    while page.locator("#entities li").count():
        page.keyboard.press("x")
    page.select_option("#entity-type", "order_number")
    assert page.evaluate(SELECT, ["[order]"])
    page.keyboard.press("e")
    assert page.inner_text("#text mark") == "[order]"
    page.shot("02-annotated")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    saved = workbench.client("omar").get(f"/api/conversations/{stack.senders['de_misunderstood']}")
    annotation = saved[1]["turns"][1]["annotation"]
    assert annotation["intent"] == intent
    (entity,) = annotation["entities"]
    assert saved[1]["turns"][1]["text"][entity["start"] : entity["end"]] == "BL-10001"

    page.goto(workbench.url + "/export")
    line = "Mein Päckchen hängt seit Tagen beim Zoll fest, [BL-10001](order_number)"
    diff = page.inner_text("#diff")
    assert f"+    - {line}" in diff and f"- intent: {intent}" in diff
    page.shot("03-diff")
    # The export runs `rasa data validate` first (half a minute, longer on a busy machine).
    page.set_default_navigation_timeout(300_000)
    with page.expect_navigation(timeout=300_000):
        page.click("#export-button", no_wait_after=True)
    page.wait_for_selector("#export-result")
    assert "Exported" in page.inner_text("#export-result"), page.inner_text("main")
    assert line in page.inner_text("#written-diff")
    page.shot("04-exported")
    written = (workbench.root / "data" / "nlu" / "de" / "workbench.yml").read_text()
    assert line in written


@pytest.mark.parametrize(
    ("conversation", "needle", "entity", "intent", "language"),
    [
        ("ja_order", "BL-10002", "order_number", "order_status", "ja"),
        ("ar_shipping", "السعودية", "country", "shipping_time", "ar"),
    ],
)
def test_entity_spans_in_japanese_and_arabic(
    browser_page: Any,
    workbench: Workbench,
    stack: Stack,
    conversation: str,
    needle: str,
    entity: str,
    intent: str,
    language: str,
) -> None:
    page = browser_page
    log_in(page, workbench, "omar")
    omar = workbench.client("omar")
    turn = omar.get(f"/api/conversations/{stack.senders[conversation]}")[1]["turns"][0]
    page.goto(f"{workbench.url}/annotate/{turn['event_id']}")
    if language == "ar":
        assert page.evaluate("getComputedStyle(document.getElementById('text')).direction") == (
            "rtl"
        )
    while page.locator("#entities li").count():
        page.keyboard.press("x")
    page.select_option("#intent", intent)
    page.select_option("#language", language)
    page.select_option("#entity-type", entity)
    page.keyboard.press("Escape")
    assert page.evaluate(SELECT, [needle])
    page.keyboard.press("e")
    page.shot(f"{language}-marked")
    with page.expect_navigation():
        page.click("#save")
    saved = omar.get(f"/api/conversations/{stack.senders[conversation]}")[1]["turns"][0]
    (span,) = saved["annotation"]["entities"]
    start = saved["text"].index(needle)
    assert (span["start"], span["end"], span["entity"]) == (start, start + len(needle), entity)
