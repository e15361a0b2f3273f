"""The "did you mean" labels are sent as buttons by an action: they must fit WhatsApp too."""

from __future__ import annotations

import yaml

from borderless.i18n.catalog import Catalogs
from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.settings import PROJECT_ROOT

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())["responses"]


def test_intent_labels_fit_a_whatsapp_button_in_every_language() -> None:
    catalogs = Catalogs.load(PROJECT_ROOT / "locales")
    labels = {
        name: v[0]["text"] for name, v in RESPONSES.items() if name.startswith("utter_label_")
    }
    assert "utter_label_something_else" in labels and len(labels) >= 10
    for name, english in labels.items():
        for language in SUPPORTED_LANGUAGES:
            title = catalogs.translate(language, name, english)
            assert len(title) <= 20, f"{language} {name}: {title!r}"
            assert language == "en" or title != english, f"{language} {name}: untranslated"
