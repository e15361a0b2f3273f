"""Every response exists in every supported language, with the same placeholders."""

from __future__ import annotations

from pathlib import Path

import yaml

from borderless.i18n.catalog import Catalogs, problems, source_messages
from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.settings import PROJECT_ROOT

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]
LOCALES = PROJECT_ROOT / "locales"


def test_every_response_is_translated_into_every_supported_language() -> None:
    found = problems(RESPONSES, LOCALES, SUPPORTED_LANGUAGES)
    assert not found, "run `make catalogs` and translate:\n" + "\n".join(found)


def test_catalogs_exist_only_for_supported_languages() -> None:
    assert set(Catalogs.load(LOCALES).languages) <= set(SUPPORTED_LANGUAGES)


def test_a_translation_is_served_and_english_is_the_fallback(tmp_path: Path) -> None:
    catalogs = Catalogs.load(LOCALES)
    english = RESPONSES["utter_ask_order_number"][0]["text"]
    assert catalogs.translate("de", "utter_ask_order_number", english) != english
    assert catalogs.translate("xx", "utter_ask_order_number", english) == english
    assert Catalogs.load(tmp_path).translate("de", "utter_greet", "Hello") == "Hello"


def test_button_titles_are_translated_and_payloads_kept() -> None:
    catalogs = Catalogs.load(LOCALES)
    response = RESPONSES["utter_offer_human"][0]
    localized = catalogs.localize("utter_offer_human", response, "de")
    assert [b["payload"] for b in localized["buttons"]] == [
        b["payload"] for b in response["buttons"]
    ]
    assert localized["buttons"][0]["title"] != response["buttons"][0]["title"]


def test_a_changed_english_text_is_reported_not_served_stale(tmp_path: Path) -> None:
    changed = {"utter_greet": [{"text": "Hi there, brand new greeting!"}]}
    (tmp_path / "de" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "de" / "LC_MESSAGES" / "messages.po").write_bytes(
        (LOCALES / "de" / "LC_MESSAGES" / "messages.po").read_bytes()
    )
    found = problems(changed, tmp_path, ["en", "de"])
    assert found and "not translated" in found[0]


def test_source_messages_are_stable_and_cover_buttons() -> None:
    contexts = [m.context for m in source_messages(RESPONSES)]
    assert contexts == sorted(contexts)
    assert "utter_offer_human/button" in contexts


def test_button_titles_fit_whatsapp_in_every_language() -> None:
    catalogs = Catalogs.load(LOCALES)
    for message in source_messages(RESPONSES):
        if not message.context.endswith("/button"):
            continue
        for language in SUPPORTED_LANGUAGES:
            title = catalogs.translate(language, message.context, message.text)
            assert len(title) <= 20, f"{language} {message.context}: {title!r} > 20 characters"
