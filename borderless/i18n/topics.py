"""What a question is about, once its intent is known: keywords per language, per topic.

An intent says "payment problem"; the words say which one (charged twice, declined, pending,
which methods). The keywords live in ``locales/topics.yml`` (language data, not code) and are
matched like catalog aliases (:class:`borderless.i18n.countries.PhraseMatcher`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from borderless.i18n.countries import PhraseMatcher

DEFAULT_TOPICS_FILE = Path(__file__).resolve().parent.parent.parent / "locales" / "topics.yml"


class Topics:
    def __init__(self, groups: dict[str, dict[str, list[str]]]) -> None:
        self._order = {group: list(topics) for group, topics in groups.items()}
        self._matchers: dict[str, PhraseMatcher] = {}
        for group, topics in groups.items():
            matcher = PhraseMatcher()
            for topic, words in topics.items():
                for word in words:
                    matcher.add(word, topic)
            self._matchers[group] = matcher.compile()

    @classmethod
    def load(cls, path: Path = DEFAULT_TOPICS_FILE) -> Topics:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        groups: dict[str, dict[str, list[str]]] = {}
        for group, topics in raw.items():
            groups[str(group)] = {
                str(topic): [str(w) for words in (by_language or {}).values() for w in words]
                for topic, by_language in (topics or {}).items()
            }
        return cls(groups)

    def all_of(self, group: str, text: str) -> list[str]:
        """Every topic of ``group`` the text mentions, in the file's order."""
        matcher = self._matchers.get(group)
        if matcher is None or not text:
            return []
        found = {match.code for match in matcher.find_all(text)}
        return [topic for topic in self._order[group] if topic in found]

    def first(self, group: str, text: str) -> str | None:
        found = self.all_of(group, text)
        return found[0] if found else None


@lru_cache(maxsize=1)
def default_topics() -> Topics:
    return Topics.load()
