"""Response translations as gettext catalogs, one per language, managed with Babel.

``domain.yml`` holds every response in English: Rasa's own tooling (``rasa data validate``,
stories, tests) sees one canonical set. Each other language has
``locales/<lang>/LC_MESSAGES/messages.po`` where every entry is keyed by the response name
(``msgctxt``) and its English text (``msgid``), so translators work in the standard gettext
tools and a changed English text shows up as fuzzy instead of silently serving a stale reply.
Button titles use the context ``<response>/button``.

    python -m borderless.i18n.catalog sync    # after editing responses: refresh .pot and .po
    python -m borderless.i18n.catalog check   # list what is missing or fuzzy (exit 1 if any)
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

DOMAIN_FILE = "messages"
BUTTON_SUFFIX = "/button"
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


@dataclass(frozen=True)
class SourceMessage:
    context: str
    text: str


def source_messages(responses: Mapping[str, list[dict[str, Any]]]) -> Iterator[SourceMessage]:
    """Every translatable string of the domain's responses, in a stable order."""
    for name in sorted(responses):
        for variation in responses[name]:
            if variation.get("text"):
                yield SourceMessage(name, variation["text"])
            for button in variation.get("buttons") or []:
                if button.get("title"):
                    yield SourceMessage(name + BUTTON_SUFFIX, button["title"])


def placeholders(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text))


class Catalogs:
    """Loaded translations: ``(language, context, english) → translated``."""

    def __init__(self, translations: Mapping[str, Mapping[tuple[str, str], str]]) -> None:
        self._translations = translations

    @classmethod
    def load(cls, locales_dir: Path) -> Catalogs:
        translations: dict[str, dict[tuple[str, str], str]] = {}
        for po_file in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN_FILE}.po")):
            language = po_file.parent.parent.name
            translations[language] = {
                (message.context or "", str(message.id)): str(message.string)
                for message in _read(po_file)
                if message.id and message.string and not message.fuzzy
            }
        return cls(translations)

    @property
    def languages(self) -> list[str]:
        return sorted(self._translations)

    def translate(self, language: str, context: str, english: str) -> str:
        """The translation, or the English text where none exists (never an empty reply)."""
        table = self._translations.get(language)
        if not table:
            return english
        return table.get((context, english), english)

    def localize(self, name: str, response: dict[str, Any], language: str) -> dict[str, Any]:
        """A copy of one response variation with its text and button titles translated."""
        localized = dict(response)
        if response.get("text"):
            localized["text"] = self.translate(language, name, response["text"])
        if response.get("buttons"):
            localized["buttons"] = [
                {**button, "title": self.translate(language, name + BUTTON_SUFFIX, button["title"])}
                for button in response["buttons"]
            ]
        return localized


def _read(po_file: Path) -> Catalog:
    with po_file.open("rb") as handle:
        return read_po(handle, locale=po_file.parent.parent.name)


def _template(messages: Iterable[SourceMessage]) -> Catalog:
    template = Catalog(project="Borderless", fuzzy=False)
    for message in messages:
        template.add(message.text, context=message.context)
    return template


def sync(responses: Mapping[str, list[dict[str, Any]]], locales_dir: Path) -> list[Path]:
    """Write ``messages.pot`` and merge it into every language's ``messages.po``."""
    template = _template(source_messages(responses))
    written = [locales_dir / f"{DOMAIN_FILE}.pot"]
    with written[0].open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=False)
    for po_file in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN_FILE}.po")):
        catalog = _read(po_file)
        catalog.update(template, no_fuzzy_matching=False)
        with po_file.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=False, ignore_obsolete=True)
        written.append(po_file)
    return written


def problems(
    responses: Mapping[str, list[dict[str, Any]]], locales_dir: Path, languages: Iterable[str]
) -> list[str]:
    """Human-readable list of every missing, fuzzy or placeholder-breaking translation."""
    found: list[str] = []
    sources = list(source_messages(responses))
    for language in languages:
        if language == "en":
            continue
        po_file = locales_dir / language / "LC_MESSAGES" / f"{DOMAIN_FILE}.po"
        if not po_file.exists():
            found.append(f"{language}: no catalog at {po_file}")
            continue
        entries = {(m.context or "", str(m.id)): m for m in _read(po_file) if m.id}
        for source in sources:
            entry = entries.get((source.context, source.text))
            where = f"{language}: {source.context}"
            if entry is None or not entry.string:
                found.append(f"{where}: not translated: {source.text!r}")
            elif entry.fuzzy:
                found.append(f"{where}: fuzzy (English changed): {source.text!r}")
            elif placeholders(str(entry.string)) != placeholders(source.text):
                found.append(f"{where}: placeholders differ: {entry.string!r}")
    return found


def _domain_responses(domain_file: Path) -> dict[str, list[dict[str, Any]]]:
    import yaml

    with domain_file.open(encoding="utf-8") as handle:
        return dict(yaml.safe_load(handle).get("responses") or {})


def main(argv: list[str]) -> int:
    from borderless.i18n.language import SUPPORTED_LANGUAGES
    from borderless.settings import PROJECT_ROOT, Settings

    settings = Settings.from_env()
    responses = _domain_responses(PROJECT_ROOT / "domain.yml")
    command = argv[0] if argv else "check"
    if command == "sync":
        for path in sync(responses, settings.locales_dir):
            print(f"wrote {path.relative_to(PROJECT_ROOT)}")
        return 0
    if command == "check":
        found = problems(responses, settings.locales_dir, SUPPORTED_LANGUAGES)
        for line in found:
            print(line)
        print(f"{len(found)} problem(s) in {len(SUPPORTED_LANGUAGES)} language(s)")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
