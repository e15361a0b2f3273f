"""Review, inbox, annotate and masking through the workbench's HTTP API, on conversations that
really went through Rasa's REST channel into its SQL tracker store."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workbench.conftest import Stack, Workbench

pytestmark = pytest.mark.e2e


def conversation(client: Any, sender: str) -> dict[str, Any]:
    status, body = client.get(f"/api/conversations/{sender}")
    assert status == 200, body
    return dict(body)


def test_everything_needs_a_trainer_login(workbench: Workbench) -> None:
    anonymous = workbench.client()
    assert anonymous.get("/api/inbox")[0] == 401
    assert anonymous.get("/api/conversations")[0] == 401
    assert anonymous.login("lena", "wrong") == 401
    # An agent of the console is not a trainer.
    assert anonymous.login("mia") == 401


def test_a_post_without_the_csrf_token_is_refused(workbench: Workbench, stack: Stack) -> None:
    lena = workbench.client("lena")
    lena.csrf = "forged"
    status, body = lena.post("/api/annotations", {"event_id": 1, "intent": "greet"})
    assert status == 403, body


def test_review_shows_what_the_assistant_understood(workbench: Workbench, stack: Stack) -> None:
    omar = workbench.client("omar")
    status, body = omar.get("/api/conversations")
    assert status == 200
    senders = {c["sender_id"] for c in body["conversations"]}
    assert set(stack.senders.values()) <= senders
    german = conversation(omar, stack.senders["de_misunderstood"])
    assert german["channels"] == ["rest"]
    first, second = german["turns"]
    assert first["text"] == "Hallo" and first["intent"] == "greet"
    assert second["language"] == "de"
    assert 0 < second["confidence"] <= 1 and second["ranking"]
    assert any(e["entity"] == "order_number" for e in second["entities"])
    assert second["actions"], "the bot's actions after the message"


@pytest.mark.parametrize(
    ("query", "included", "excluded"),
    [
        ("language=ja", "ja_order", "de_misunderstood"),
        ("language=de", "de_misunderstood", "ja_order"),
        ("outcome=handoff", "en_handoff", "en_order"),
        ("outcome=fallback", "gibberish_1", "en_order"),
        ("intent=greet", "de_misunderstood", "ja_order"),
        ("channel=rest", "en_order", None),
        ("since=2000-01-01&until=2999-12-31", "en_order", None),
    ],
)
def test_filters(
    workbench: Workbench, stack: Stack, query: str, included: str, excluded: str | None
) -> None:
    status, body = workbench.client("lena").get(f"/api/conversations?{query}")
    assert status == 200, body
    senders = {c["sender_id"] for c in body["conversations"]}
    assert stack.senders[included] in senders
    if excluded:
        assert stack.senders[excluded] not in senders


def test_a_bad_filter_is_a_clear_400(workbench: Workbench) -> None:
    lena = workbench.client("lena")
    status, body = lena.get("/api/conversations?since=yesterday")
    assert status == 400 and "2026-11-23" in body["error"]
    status, body = lena.get("/api/conversations?outcome=bogus")
    assert status == 400 and "handoff" in body["error"]


def test_personal_data_is_masked_without_the_permission(workbench: Workbench, stack: Stack) -> None:
    sender = stack.senders["en_order"]
    masked = conversation(workbench.client("lena"), sender)
    text = masked["turns"][0]["text"]
    assert "anna.schmidt@example.de" not in text and "BL-10001" not in text
    assert text == "where is order [order]? my email is [email]"
    assert masked["first_text"] == text
    # Entities the assistant found point at the placeholders in the text the trainer sees.
    spans = {e["entity"]: text[e["start"] : e["end"]] for e in masked["turns"][0]["entities"]}
    assert spans.get("email") == "[email]" and spans.get("order_number") == "[order]"
    assert not any("anna.schmidt" in t for turn in masked["turns"] for t in turn["bot_texts"])
    plain = conversation(workbench.client("omar"), sender)
    assert "anna.schmidt@example.de" in plain["turns"][0]["text"]
    chinese = conversation(workbench.client("lena"), stack.senders["zh_name"])
    assert "王小明" not in chinese["turns"][0]["text"] and "[name]" in chinese["turns"][0]["text"]


def test_inbox_has_fallbacks_and_handoffs_once(workbench: Workbench, stack: Stack) -> None:
    status, body = workbench.client("lena").get("/api/inbox")
    assert status == 200
    items = body["items"]
    gibberish = [i for i in items if "snizzle" in i["text"].lower()]
    assert len(gibberish) == 1, "the same text from two customers is one entry"
    assert gibberish[0]["duplicates"] == 1 and "fallback" in gibberish[0]["reasons"]
    handoff = [i for i in items if i["sender_id"] == stack.senders["en_handoff"]]
    assert handoff and "before_handoff" in handoff[0]["reasons"]
    scores = [i["score"] for i in items]
    assert scores == sorted(scores, reverse=True)


def test_annotate_on_masked_text_stores_original_offsets(
    workbench: Workbench, stack: Stack
) -> None:
    lena = workbench.client("lena")
    turn = conversation(lena, stack.senders["en_order"])["turns"][0]
    text = turn["text"]  # "where is order [order]? my email is [email]"
    start = text.index("[email]")
    status, body = lena.post(
        "/api/annotations",
        {
            "event_id": turn["event_id"],
            "intent": "order_status",
            "language": "en",
            "text": text,
            # Only part of the placeholder selected: the span grows to the whole email.
            "entities": [{"start": start + 1, "end": start + 4, "entity": "email"}],
        },
    )
    assert status == 200, body
    assert body["entities"] == [{"entity": "email", "start": start, "end": start + 7}]
    # Omar sees the same annotation on the real text.
    plain = conversation(workbench.client("omar"), stack.senders["en_order"])["turns"][0]
    (entity,) = plain["annotation"]["entities"]
    assert plain["text"][entity["start"] : entity["end"]] == "anna.schmidt@example.de"


def test_annotate_cjk_and_arabic_spans(workbench: Workbench, stack: Stack) -> None:
    omar = workbench.client("omar")
    turn = conversation(omar, stack.senders["ja_order"])["turns"][0]
    text = turn["text"]
    start = text.index("BL-10002")
    status, body = omar.post(
        "/api/annotations",
        {
            "event_id": turn["event_id"],
            "intent": "order_status",
            "language": "ja",
            "entities": [{"start": start, "end": start + 8, "entity": "order_number"}],
        },
    )
    assert status == 200, body
    arabic = conversation(omar, stack.senders["ar_shipping"])["turns"][0]
    start = arabic["text"].index("السعودية")
    status, body = omar.post(
        "/api/annotations",
        {
            "event_id": arabic["event_id"],
            "intent": "shipping_time",
            "language": "ar",
            "entities": [{"start": start, "end": start + len("السعودية"), "entity": "country"}],
        },
    )
    assert status == 200, body


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"intent": "no_such_intent"}, 422, "unknown intent"),
        ({"language": "ru"}, 422, "language must be"),
        ({"entities": [{"start": 0, "end": 999, "entity": "email"}]}, 422, "not inside"),
        ({"entities": [{"start": 0, "end": 2, "entity": "planet"}]}, 422, "unknown entity"),
        ({"entities": [{"start": "a"}]}, 400, "required"),
        ({"event_id": 99999999}, 404, "no such message"),
        ({"text": "something else"}, 409, "changed"),
    ],
)
def test_bad_annotations_get_a_clear_error(
    workbench: Workbench, stack: Stack, change: dict[str, Any], status: int, message: str
) -> None:
    lena = workbench.client("lena")
    turn = conversation(lena, stack.senders["gibberish_1"])["turns"][0]
    body = {"event_id": turn["event_id"], "intent": "out_of_scope", "language": "en", **change}
    answer_status, answer = lena.post("/api/annotations", body)
    assert answer_status == status, answer
    assert message in answer["error"]
