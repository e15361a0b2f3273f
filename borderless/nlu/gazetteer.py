"""Rasa NLU component that finds countries and the demo shop's products in any language.

``GazetteerEntityExtractor`` looks names up instead of learning them: one model serves nine
languages, and no training data could cover ~260 countries times nine languages, nor every
word customers use for a product. It adds

``country``
    value = ISO 3166-1 alpha-2 code (``"DE"`` for "Deutschland", "ドイツ", "للسعودية"), from
    :class:`borderless.i18n.countries.CountryNames` (CLDR names plus
    ``locales/country_aliases.yml``).
``product``
    value = the canonical product title (``"Wireless Earbuds Pro 2"`` for "écouteurs",
    "イヤホン", "سماعات"), from the titles and ``aliases`` of the catalog file.

``start``/``end`` are exact offsets into the message text, so ``text[start:end]`` is what the
customer wrote; like ``RegexEntityExtractor`` the entity carries no other surface key, and
``extractor`` is this class's name. Matching is the one of
:class:`borderless.i18n.countries.PhraseMatcher`: case, accents, dashes and Arabic letter
variants are ignored; Latin and Arabic names match whole words (Arabic also behind و/ب/ل/ال),
Han names anywhere. Where a product and a country overlap, the longer wins ("Cabo Verde" is a
country, not a cable).

An entity is not added when another extractor (DIET, RegexEntityExtractor) already produced
one of the same type on an overlapping span; running the component twice replaces its own.

Example ``config.yml`` entry (every key is optional)::

    - name: borderless.nlu.gazetteer.GazetteerEntityExtractor
      entities: [country, product]
      catalog: demo/catalog.yml      # relative to the project root
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.i18n.countries import (
    PRIORITY_ALIAS,
    PRIORITY_DERIVED,
    CountryNames,
    Match,
    PhraseMatcher,
    normalize,
    read_yaml,
)
from borderless.settings import PROJECT_ROOT

logger = logging.getLogger(__name__)

COUNTRY_ENTITY = "country"
PRODUCT_ENTITY = "product"
ENTITY_TYPES = (COUNTRY_ENTITY, PRODUCT_ENTITY)
DEFAULT_CATALOG = "demo/catalog.yml"


def load_catalog(path: Path) -> list[dict[str, Any]]:
    """The catalog's products; each has at least a unique ``title``."""
    raw = read_yaml(path)
    products = raw.get("products") or []
    if not isinstance(products, list):
        raise ValueError(f"{path}: 'products' must be a list")
    titles: set[str] = set()
    for product in products:
        title = product.get("title") if isinstance(product, dict) else None
        if not isinstance(title, str) or not title.strip():
            raise ValueError(f"{path}: every product needs a title, got {product!r}")
        if title in titles:
            raise ValueError(f"{path}: duplicate product title {title!r}")
        titles.add(title)
    return products


def build_product_matcher(products: list[dict[str, Any]]) -> PhraseMatcher:
    """Titles, their part before the first comma and every alias → the product's title."""
    matcher = PhraseMatcher()
    owners: dict[str, set[str]] = {}
    for product in products:
        title = product["title"]
        matcher.add(title, title, priority=PRIORITY_ALIAS)
        short = title.split(",")[0].strip()
        if short != title:
            matcher.add(short, title, priority=PRIORITY_DERIVED)
        for names in (product.get("aliases") or {}).values():
            for name in [names] if isinstance(names, str) else names or []:
                matcher.add(str(name), title, priority=PRIORITY_ALIAS)
                owners.setdefault(" ".join(normalize(str(name)).split()), set()).add(title)
    for name, titles in owners.items():
        if len(titles) > 1:
            logger.warning("Catalog alias %r names %s; it will match no product.", name, titles)
    return matcher.compile()


# Little words between a product noun and its descriptor: "tapis de yoga *en* liège",
# "sedia *da* ufficio", "cadeira *de* escritório", "bag *with* ...".
_CONNECTORS = frozenset("de del do da di en in em à a con com with of aus mit".split())
# Words of facts ("natural cork on natural rubber") that describe nothing by themselves.
_NOT_DESCRIPTORS = frozenset("and the for und une les des los las per".split())
# The next word, directly or behind a connector: a Latin word (inner hyphens/apostrophes allowed)
# or an alphanumeric token such as "1080p".
_NEXT_WORD = re.compile(r"[ \t]+([^\W_][\w'’\-]*)")
_PREVIOUS_WORD = re.compile(r"(?:^|(?<=[\s(\"'“«]))([^\W_][\w'’]*)(?:[ \t]+|-)$")
_NEXT_CONNECTED_WORD = re.compile(r"[ \t]+(\w+)[ \t]+([^\W_][\w'’\-]*)")


def product_vocabulary(products: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Per product title, the folded words of its title, aliases (all languages) and facts.

    A customer says "le tapis de yoga en liège" or "la sedia da ufficio ergonomica": the alias
    ("tapis de yoga", "sedia da ufficio") is found by the matcher, and the descriptor that
    follows ("en liège", "ergonomica") belongs to the mention when the product's own names use
    that word in some language ("tapis en liège", "sedia ergonomica").
    """
    vocabulary = {}
    for product in products:
        phrases = [product["title"]]
        for names in (product.get("aliases") or {}).values():
            phrases.extend([names] if isinstance(names, str) else [str(n) for n in names or []])
        for key in ("material", "colour"):
            if isinstance(product.get(key), str):
                phrases.append(product[key])
        words = {
            word
            for phrase in phrases
            for word in re.findall(r"[^\W_][\w'’\-]*", normalize(phrase))
            if word not in _CONNECTORS
            and word not in _NOT_DESCRIPTORS
            and (len(word) > 2 or any(ch.isdigit() for ch in word))
        }
        vocabulary[product["title"]] = frozenset(words)
    return vocabulary


_PRODUCT_VOCABULARIES: dict[tuple[str, int], dict[str, frozenset[str]]] = {}


def product_vocabularies(path: Path) -> dict[str, frozenset[str]]:
    """The shared descriptor vocabulary for a catalog file, rebuilt when the file changes."""
    key = (str(path), path.stat().st_mtime_ns)
    vocabulary = _PRODUCT_VOCABULARIES.get(key)
    if vocabulary is None:
        with _PRODUCT_LOCK:
            vocabulary = _PRODUCT_VOCABULARIES.get(key)
            if vocabulary is None:
                vocabulary = product_vocabulary(load_catalog(path))
                _PRODUCT_VOCABULARIES[key] = vocabulary
    return vocabulary


def extend_mentions(
    text: str, mentions: list[Match], vocabulary: dict[str, frozenset[str]]
) -> list[Match]:
    """Product mentions grown over the descriptors that follow them (see product_vocabulary).

    Two mentions of the same product with only a connector or a space between them become one
    ("Oud Parfümöl", "aceite de perfume oud"). Only Latin-script text is extended.
    """
    folded = normalize(text)
    result: list[Match] = []
    for mention in sorted(mentions, key=lambda m: m.start):
        words = vocabulary.get(mention.code, frozenset())
        end = mention.end
        while True:
            direct = _NEXT_WORD.match(folded, end)
            connected = _NEXT_CONNECTED_WORD.match(folded, end)
            if direct is not None and direct.group(1) in words:
                end = direct.end()
            elif (
                connected is not None
                and connected.group(1) in _CONNECTORS
                and connected.group(2) in words
            ):
                end = connected.end()
            else:
                break
        start = mention.start
        while True:
            # A descriptor or compound part just before: "borsa weekender", "Smoothie-Mixer".
            before = _PREVIOUS_WORD.search(folded, 0, start)
            if before is None or not (
                before.group(1) in words or folded[before.end(1) : start] == "-"
            ):
                break
            start = before.start(1)
        if result and result[-1].code == mention.code and start <= result[-1].end:
            previous = result.pop()
            start, end = previous.start, max(previous.end, end)
        result.append(Match(mention.code, start, end, text[start:end]))
    return result


_PRODUCT_MATCHERS: dict[tuple[str, int], PhraseMatcher] = {}
_PRODUCT_LOCK = threading.Lock()


def product_matcher(path: Path) -> PhraseMatcher:
    """The shared matcher for a catalog file, rebuilt when the file changes."""
    key = (str(path), path.stat().st_mtime_ns)
    matcher = _PRODUCT_MATCHERS.get(key)
    if matcher is None:
        with _PRODUCT_LOCK:
            matcher = _PRODUCT_MATCHERS.get(key)
            if matcher is None:
                matcher = build_product_matcher(load_catalog(path))
                _PRODUCT_MATCHERS[key] = matcher
    return matcher


def _overlaps(start: int, end: int, other_start: int, other_end: int) -> bool:
    return start < other_end and other_start < end


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Adds ``country`` (ISO code) and ``product`` (catalog title) entities; see the module."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Both entity types; the demo shop's catalog."""
        return {
            # Which entities to extract: any of "country", "product".
            "entities": list(ENTITY_TYPES),
            # The catalog YAML (demo/catalog.yml documents the format); a relative path is
            # relative to the project root, not to the working directory.
            "catalog": DEFAULT_CATALOG,
        }

    def __init__(self, config: dict[str, Any], warm_up: bool = False) -> None:
        """Validates the config; builds the name tables now only if ``warm_up``."""
        self._config = {**self.get_default_config(), **config}
        self._entities = self._validated_entities(self._config["entities"])
        self._catalog = self._catalog_path(self._config["catalog"])
        if PRODUCT_ENTITY in self._entities and not self._catalog.is_file():
            raise InvalidConfigException(
                f"GazetteerEntityExtractor: catalog {self._catalog} does not exist."
            )
        self._countries = CountryNames()
        if warm_up:
            self._matchers()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GazetteerEntityExtractor:
        """Creates the component; builds the tables (~0.2 s) only where messages are parsed."""
        return cls(config, warm_up=_runs_inference(execution_context))

    @staticmethod
    def _validated_entities(value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not value:
            raise InvalidConfigException(
                f"GazetteerEntityExtractor: 'entities' must list some of {ENTITY_TYPES}."
            )
        entities = tuple(dict.fromkeys(str(entity).strip().lower() for entity in value))
        unknown = [entity for entity in entities if entity not in ENTITY_TYPES]
        if unknown:
            raise InvalidConfigException(
                f"GazetteerEntityExtractor: unknown entities {unknown}; known: {ENTITY_TYPES}."
            )
        return entities

    @staticmethod
    def _catalog_path(value: Any) -> Path:
        path = Path(str(value or DEFAULT_CATALOG))
        return path if path.is_absolute() else PROJECT_ROOT / path

    def _matchers(self) -> list[tuple[str, PhraseMatcher]]:
        matchers = []
        for entity in self._entities:
            if entity == COUNTRY_ENTITY:
                matchers.append((entity, self._countries.matcher))
            else:
                matchers.append((entity, product_matcher(self._catalog)))
        return matchers

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data alone: the gazetteer needs no training."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the entities found in each message's text to its ``entities``."""
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text or text.startswith("/"):
            # No text (end-to-end action messages), or an "/intent{...}" payload.
            return
        entities = message.get(ENTITIES) or []
        existing = [e for e in entities if e.get(EXTRACTOR) != self.name]
        found = self.extract(text)
        new = [
            entity
            for entity in found
            if not any(
                other.get(ENTITY_ATTRIBUTE_TYPE) == entity[ENTITY_ATTRIBUTE_TYPE]
                and isinstance(other.get(ENTITY_ATTRIBUTE_START), int)
                and isinstance(other.get(ENTITY_ATTRIBUTE_END), int)
                and _overlaps(
                    entity[ENTITY_ATTRIBUTE_START],
                    entity[ENTITY_ATTRIBUTE_END],
                    other[ENTITY_ATTRIBUTE_START],
                    other[ENTITY_ATTRIBUTE_END],
                )
                for other in existing
            )
        ]
        if new or len(existing) != len(entities):
            message.set(ENTITIES, existing + self.add_extractor_name(new), add_to_output=True)

    def extract(self, text: str) -> list[dict[str, Any]]:
        """The entities in ``text``, in text order, without ``extractor`` (pure lookup)."""
        candidates: list[tuple[str, Match]] = []
        for entity, matcher in self._matchers():
            matches = matcher.find_all(text)
            if entity == PRODUCT_ENTITY:
                matches = extend_mentions(text, matches, product_vocabularies(self._catalog))
            candidates.extend((entity, match) for match in matches)
        # Countries and products never overlap: the longer mention wins, a country on a tie.
        order = {entity: rank for rank, entity in enumerate(ENTITY_TYPES)}
        candidates.sort(key=lambda c: (c[1].start - c[1].end, c[1].start, order[c[0]]))
        taken = bytearray(len(text))
        kept: list[tuple[str, Match]] = []
        for entity, match in candidates:
            if not any(taken[match.start : match.end]):
                taken[match.start : match.end] = b"\x01" * (match.end - match.start)
                kept.append((entity, match))
        kept.sort(key=lambda c: c[1].start)
        return [
            {
                ENTITY_ATTRIBUTE_TYPE: entity,
                ENTITY_ATTRIBUTE_START: match.start,
                ENTITY_ATTRIBUTE_END: match.end,
                ENTITY_ATTRIBUTE_VALUE: match.code,
            }
            for entity, match in kept
        ]


def _runs_inference(execution_context: ExecutionContext) -> bool:
    """Whether this graph node parses messages (``process``) rather than training data."""
    node_name = execution_context.node_name
    node = execution_context.graph_schema.nodes.get(node_name) if node_name else None
    return node is not None and node.fn == "process"
