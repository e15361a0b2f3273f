"""The ticket summary an agent reads, in the agent's language.

The bot stores the summary language-neutral (codes: ``request_human``, ``assigned``,
``shouting``, ``de``); the console renders its structured fields here, in the language of the
agent reading it (their first language in ``demo/agents.yml``), so a Tokyo agent who picks up
an Italian customer's ticket reads 「担当者を希望」, not ``request_human``. What the customer
wrote (the last message, the transcript, the words that triggered a handoff) is shown as is:
translating it would hide what was actually said.

Translations are a gettext catalog of their own, ``locales/<lang>/LC_MESSAGES/console.po``
(context = the kind of string: ``label``, ``reason``, ``status``, ``signal``), separate from
the customer-facing ``messages.po`` that ``borderless.i18n.catalog`` derives from
``domain.yml``. ``python -m borderless.handoff.summary check`` lists what is missing.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

CONSOLE_DOMAIN = "console"

#: (context, English) of every string the summary translates.
LABELS = {
    "reason": "Reason",
    "last_intents": "Last intents",
    "status": "Status",
    "language": "Customer language",
    "agent_language": "Agent language",
    "verified_order": "Verified order",
    "failed_verifications": "Failed verifications",
    "last_message": "Last message",
    "frustration": "Frustration",
    "trigger": "Why it was handed over",
    "vip": "VIP",
}
REASONS = {
    "greet": "Greeting",
    "goodbye": "Goodbye",
    "thanks": "Thanks",
    "affirm": "Yes",
    "deny": "No",
    "bot_challenge": "Asked whether this is a bot",
    "inform": "Gave details",
    "order_status": "Order status",
    "request_human": "Asked for a person",
    "out_of_scope": "Out of scope",
    "shipping_time": "Shipping time",
    "shipping_cost": "Shipping cost",
    "cancel_order": "Cancel an order",
    "change_address": "Change the address",
    "return_request": "Return",
    "refund_status": "Refund status",
    "payment_problem": "Payment problem",
    "product_question": "Product question",
    "complaint": "Complaint",
    "data_privacy": "Data privacy",
    "start_over": "Started over",
    "nlu_fallback": "Not understood",
    "chargeback": "Chargeback",
    "legal": "Legal threat",
    "safety": "Safety",
    "frustration": "Frustrated customer",
}
STATUSES = {
    "queued": "Queued",
    "open": "Open",
    "assigned": "Assigned",
    "resolved": "Resolved",
    "closed": "Closed",
}
SIGNALS = {
    "shouting": "shouting",
    "piled-up punctuation": "piled-up punctuation",
    "same message again": "same message again",
    "negative words": "negative words",
    "complaint": "complaint",
    "none": "none",
    "order value": "order value",
    "previous orders": "previous orders",
    "matched": "matched",
}
SOURCES: dict[str, Mapping[str, str]] = {
    "label": LABELS,
    "reason": REASONS,
    "status": STATUSES,
    "signal": SIGNALS,
}
# Fields whose values are what the customer wrote or identifiers: never translated.
RAW_FIELDS = frozenset({"last_message", "verified_order", "failed_verifications"})
_SIGNAL_WORDS = re.compile(
    "|".join(re.escape(s) for s in sorted(SIGNALS, key=len, reverse=True) if s != "none")
)


@dataclass(frozen=True)
class SummaryLine:
    key: str
    label: str
    value: str


class ConsoleCatalog:
    """``(language, context, English) → translation``; English where none exists."""

    def __init__(self, translations: Mapping[str, Mapping[tuple[str, str], str]]) -> None:
        self._translations = translations

    @classmethod
    def load(cls, locales_dir: Path) -> ConsoleCatalog:
        translations: dict[str, dict[tuple[str, str], str]] = {}
        for po_file in sorted(locales_dir.glob(f"*/LC_MESSAGES/{CONSOLE_DOMAIN}.po")):
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=po_file.parent.parent.name)
            translations[po_file.parent.parent.name] = {
                (m.context or "", str(m.id)): str(m.string)
                for m in catalog
                if m.id and m.string and not m.fuzzy
            }
        return cls(translations)

    def text(self, language: str, context: str, english: str) -> str:
        return self._translations.get(language, {}).get((context, english), english)

    def lines(self, ticket_summary: Mapping[str, Any], agent_language: str) -> list[SummaryLine]:
        """The summary's fields, labels and coded values in ``agent_language``."""
        result: list[SummaryLine] = []
        for key, value in ticket_summary.items():
            if value is None or value == "":
                continue
            label = self.text(agent_language, "label", LABELS[key]) if key in LABELS else key
            result.append(SummaryLine(key, label, self.value(key, value, agent_language)))
        return result

    def value(self, key: str, value: Any, language: str) -> str:
        if key in RAW_FIELDS:
            return str(value)
        if key == "reason":
            return self.reason(str(value), language)
        if key == "last_intents" and isinstance(value, list | tuple):
            return ", ".join(self.reason(str(v), language) for v in value)
        if key == "status":
            return self.text(language, "status", STATUSES.get(str(value), str(value)))
        if key in ("language", "agent_language"):
            return language_name(str(value), language)
        if key in ("frustration", "vip", "trigger"):
            return self.signals(str(value), language)
        return str(value)

    def reason(self, code: str, language: str) -> str:
        english = REASONS.get(code)
        return self.text(language, "reason", english) if english else code.replace("_", " ")

    def signals(self, text: str, language: str) -> str:
        """Translate the known signal phrases; leave the customer's own words (after ':')."""
        if text == "none":
            return self.text(language, "signal", "none")

        def phrase(match: re.Match[str]) -> str:
            return self.text(language, "signal", match.group(0))

        parts = []
        for part in text.split(", "):
            head, colon, rest = part.partition(":")
            parts.append(_SIGNAL_WORDS.sub(phrase, head) + colon + rest)
        return ", ".join(parts)


def language_name(code: str, in_language: str) -> str:
    try:
        name = Locale.parse(in_language).languages.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return f"{name} ({code})" if name else code


@lru_cache(maxsize=4)
def console_catalog(locales_dir: Path) -> ConsoleCatalog:
    return ConsoleCatalog.load(locales_dir)


def template() -> Catalog:
    catalog = Catalog(project="Borderless console", fuzzy=False)
    for context, strings in SOURCES.items():
        for english in strings.values():
            catalog.add(english, context=context)
    return catalog


def problems(locales_dir: Path, languages: Iterable[str]) -> list[str]:
    found: list[str] = []
    wanted = [(m.context or "", str(m.id)) for m in template() if m.id]
    for language in languages:
        if language == "en":
            continue
        po_file = locales_dir / language / "LC_MESSAGES" / f"{CONSOLE_DOMAIN}.po"
        if not po_file.exists():
            found.append(f"{language}: no console catalog at {po_file}")
            continue
        with po_file.open("rb") as handle:
            entries = {(m.context or "", str(m.id)): m for m in read_po(handle) if m.id}
        for context, english in wanted:
            entry = entries.get((context, english))
            if entry is None or not entry.string:
                found.append(f"{language}: {context}: not translated: {english!r}")
            elif entry.fuzzy:
                found.append(f"{language}: {context}: fuzzy: {english!r}")
    return found


def sync(locales_dir: Path) -> None:
    """Write console.pot and merge it into every language's console.po."""
    pot = template()
    with (locales_dir / f"{CONSOLE_DOMAIN}.pot").open("wb") as handle:
        write_po(handle, pot, width=100, sort_output=False)
    for messages in sorted(locales_dir.glob("*/LC_MESSAGES/messages.po")):
        po_file = messages.with_name(f"{CONSOLE_DOMAIN}.po")
        language = po_file.parent.parent.name
        if po_file.exists():
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=language)
        else:
            catalog = Catalog(locale=language, project="Borderless console", fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=False)
        with po_file.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=False, ignore_obsolete=True)


def main(argv: list[str]) -> int:
    from borderless.i18n.language import SUPPORTED_LANGUAGES
    from borderless.settings import Settings

    locales_dir = Settings.from_env().locales_dir
    if argv[:1] == ["sync"]:
        sync(locales_dir)
        return 0
    found = problems(locales_dir, SUPPORTED_LANGUAGES)
    for line in found:
        print(line)
    print(f"{len(found)} problem(s) in the console catalogs")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
