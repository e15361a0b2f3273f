"""Rasa NLU component that says which language a message is in, and how sure that is.

One model serves every language, so the dialogue needs to know which language to answer in.
``LanguageDetector`` runs first in the pipeline and adds a ``language_detection`` dict to each
message (part of the parse output, so it reaches the tracker as ``latest_message``). Its
``language`` is the code to use (or ``None``) and its ``role`` grades the evidence, so that
:func:`borderless.i18n.language.choose_language` can keep the conversation language sticky:

``hint``
    The channel told us (message metadata ``language`` or ``locale``, e.g. ``"pt_BR"``). The
    customer's own settings beat any guess about a single message.
``detected``
    lingua is clearly sure and the message is long enough to trust: at least ``min_words``
    Latin-script words, ``min_cjk_chars`` Han/Kana characters or ``min_arabic_words`` Arabic
    words of the detected language. Capitalized words inside a sentence do not count: they
    are mostly names, brands and addresses, which say nothing about the customer's language.
``guess``
    Something shorter or less clear-cut ("danke", "obrigado", "谢谢"). Good enough to greet a
    new customer in, not good enough to switch a running conversation.
``None``
    No usable evidence: coin flips ("ok"), messages without words. ``language`` is ``None``.

Order numbers, emails, phone numbers, URLs, digits and emoji are removed before detecting:
``"BL-10001 anna@example.de"`` contains no words, and a German email address does not make a
message German. A message with nothing left has role ``None``.

lingua then judges only the message's dominant script (:func:`lingua_text`: an Arabic sentence
naming an English product is Arabic) and, in Latin script, the words without names. Its
confidences are multiplied by ``word_weight`` for every common word only one of the languages
uses (:mod:`borderless.nlu.language_words`: "ese", "você", "merci", "sono"), which settles the
short Spanish/Portuguese and French/Italian messages lingua alone confuses; kana-less text with
Japanese-only kanji words ("住所変更") is Japanese, not Chinese.

The component never adds entities and never touches the message's ``entities``: the evidence
describes the whole message, not a span, and ``rasa test`` compares every predicted entity with
the annotated test data, where a span-less ``language`` entity would count as an error. The rest
of ``language_detection`` (lingua's ``detected``/``confidence``, the runner-up, ``units``,
``strength``, the ``hint``) is there for debugging and analytics.

Example ``config.yml`` entry (every key is optional)::

    - name: borderless.nlu.language.LanguageDetector
      languages: [en, de, fr, es, it, pt, ja, zh, ar]
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import regex
from lingua import IsoCode639_1, LanguageDetectorBuilder
from lingua import LanguageDetector as LinguaDetector
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import METADATA, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from borderless.i18n.language import (
    ROLE_DETECTED,
    ROLE_GUESS,
    ROLE_HINT,
    SUPPORTED_LANGUAGES,
    normalize_locale,
)
from borderless.nlu.language_words import (
    CHINESE_CHARACTERS,
    DISTINCTIVE_WORDS,
    JAPANESE_KANJI_WORDS,
)

logger = logging.getLogger(__name__)

#: Message attribute with the full detection details (part of the parse output).
DETECTION_ATTRIBUTE = "language_detection"

STRONG = "strong"
WEAK = "weak"
NONE = "none"

# Runs of ASCII letters, digits and the punctuation of order numbers, emails, URLs and phone
# numbers. A run containing a digit, "@" or "://" is not language; anything else is kept.
# Matching whole runs (no backtracking) keeps this linear even on a pasted 100 kB log line.
_TECHNICAL_RUN = regex.compile(r"[A-Za-z\d_\-/\\#.,+:;@%&=?~*()\[\]]++")
# Words by script. CJK has no spaces, so it is measured in characters, not words.
_WORD = regex.compile(
    r"(?P<latin>\p{Latin}[\p{Latin}\p{M}]*+(?:['’\-]\p{Latin}[\p{Latin}\p{M}]*+)*+)"
    r"|(?P<cjk>[\p{Han}\p{Hiragana}\p{Katakana}\u30fc]++)"
    r"|(?P<arabic>\p{Arabic}[\p{Arabic}\p{M}]*+)"
    r"|(?P<other>\p{L}[\p{L}\p{M}]*+)"
)
_SENTENCE_END = regex.compile(r"[.!?¿¡:;\n。！？]")
_DIGIT = regex.compile(r"\d")
_CJK_LANGUAGES = frozenset({"ja", "zh"})
_ARABIC_LANGUAGES = frozenset({"ar"})
_ENGLISH_CONTRACTION = regex.compile(r"\p{L}'(?:t|s|re|ve|ll|d|m)$")
_WORD_LANGUAGE = {word: language for language, words in DISTINCTIVE_WORDS.items() for word in words}

# lingua keeps its language models in a process-wide cache, but building a detector with
# preloaded models still costs ~0.45 s; share one per configuration (Rasa may create the
# component several times, e.g. on model reload or in tests).
_DETECTORS: dict[tuple[tuple[str, ...], bool], LinguaDetector] = {}
_DETECTORS_LOCK = threading.Lock()


def _lingua_detector(languages: tuple[str, ...], preload: bool) -> LinguaDetector:
    """The shared lingua detector for these languages, built on first use."""
    key = (languages, preload)
    with _DETECTORS_LOCK:
        detector = _DETECTORS.get(key)
        if detector is None:
            codes = [IsoCode639_1.from_str(code) for code in languages]
            builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
            if preload:
                builder = builder.with_preloaded_language_models()
            detector = builder.build()
            _DETECTORS[key] = detector
        return detector


@dataclass(frozen=True)
class TextEvidence:
    """What is left of a message once everything language-neutral is removed."""

    text: str
    latin_words: int = 0
    cjk_chars: int = 0
    arabic_words: int = 0
    other_words: int = 0
    #: Per script, the words lingua should judge when that script dominates the message:
    #: Latin words without the capitalized ones inside a sentence (names, brands, products).
    latin_text: str = ""
    cjk_text: str = ""
    arabic_text: str = ""
    #: Lower-cased Latin words (names excluded), for the distinctive-word evidence.
    latin_lower: tuple[str, ...] = ()

    def units_for(self, language: str) -> int:
        """How much text the detected ``language`` is based on, in that script's units."""
        if language in _CJK_LANGUAGES:
            return self.cjk_chars
        if language in _ARABIC_LANGUAGES:
            return self.arabic_words
        return self.latin_words


def _drop_technical(match: regex.Match[str]) -> str:
    run = match.group()
    if "@" in run or "://" in run or run.lower().startswith("www.") or _DIGIT.search(run):
        # Keep a sentence end ("... BL-10001? Please help") so "Please" still starts one.
        return " . " if run[-1] in ".!?:;" else " "
    return run


def extract_evidence(text: str, max_chars: int) -> TextEvidence:
    """Strip order numbers, emails, URLs, numbers and emoji; count what remains by script.

    Only words in Latin, CJK or Arabic script reach lingua: no supported language is written in
    anything else, so a Russian message yields nothing rather than a random guess.

    A capitalized Latin word inside a sentence ("Anna Müller, Hauptstraße, Berlin", "Samsung
    Galaxy Ultra", "Rua das Flores Lisboa") is most likely a name, brand or address. It still
    goes to lingua but is not counted as a word: names say where a customer lives, not which
    language they write in, and a form answer must not switch the conversation language.
    German nouns lose a little weight by this; real German sentences have enough other words.
    """
    cleaned = _TECHNICAL_RUN.sub(_drop_technical, text)
    kept: list[str] = []
    size = 0
    latin = cjk = arabic = other = 0
    by_script: dict[str, list[str]] = {"latin": [], "cjk": [], "arabic": []}
    previous_end = 0
    for match in _WORD.finditer(cleaned):
        kind = match.lastgroup
        word = match.group()
        sentence_start = not kept or bool(
            _SENTENCE_END.search(cleaned, previous_end, match.start())
        )
        previous_end = match.end()
        if kind == "other":
            other += 1
            continue
        if size >= max_chars:
            break
        # Truncate rather than skip: a long CJK message is one unbroken "word".
        word = word[: max_chars - size]
        kept.append(word)
        size += len(word) + 1
        if kind == "latin":
            if sentence_start or not word[0].isupper() or word.isupper():
                latin += 1
                by_script["latin"].append(word)
        elif kind == "cjk":
            cjk += len(word)
            by_script["cjk"].append(word)
        else:
            arabic += 1
            by_script["arabic"].append(word)
    return TextEvidence(
        " ".join(kept),
        latin,
        cjk,
        arabic,
        other,
        latin_text=" ".join(by_script["latin"]),
        cjk_text=" ".join(by_script["cjk"]),
        arabic_text=" ".join(by_script["arabic"]),
        latin_lower=tuple(word.lower().replace("’", "'") for word in by_script["latin"]),
    )


def lingua_text(evidence: TextEvidence) -> str:
    """The part of the message lingua should judge: its dominant script's words.

    Only Arabic is written in Arabic script and only Japanese and Chinese in Han/Kana, so
    "Leather weekender bag فيها مكان للابتوب؟" is judged by its Arabic words, not by the
    English product name in it. Latin text is judged without names when two or more other
    words remain ("el Smartwatch S3 es compatible con iPhone?" → "el es compatible con").
    """
    latin = evidence.latin_words
    if evidence.arabic_words >= 2 or (evidence.arabic_words and evidence.arabic_words >= latin):
        return evidence.arabic_text
    if evidence.cjk_chars and evidence.cjk_chars >= 2 * latin:
        return evidence.cjk_text
    if latin >= 2 and not evidence.arabic_words and not evidence.cjk_chars:
        return evidence.latin_text
    return evidence.text


def japanese_kanji(cjk_text: str) -> bool:
    """Whether kana-less CJK text uses Japanese-only words and no everyday Chinese."""
    if not cjk_text or regex.search(r"[\p{Hiragana}\p{Katakana}]", cjk_text):
        return False
    if any(ch in CHINESE_CHARACTERS for ch in cjk_text):
        return False
    return any(word in cjk_text for word in JAPANESE_KANJI_WORDS)


def word_evidence(words: tuple[str, ...]) -> dict[str, int]:
    """How many of ``words`` are distinctive for each language (``language_words``)."""
    counts: dict[str, int] = {}
    for word in words:
        if word not in _WORD_LANGUAGE and _ENGLISH_CONTRACTION.search(word):
            counts["en"] = counts.get("en", 0) + 1  # "haven't", "where's", "we'll"
            continue
        parts = [word] if word in _WORD_LANGUAGE else word.split("'")
        for part in parts:
            language = _WORD_LANGUAGE.get(part)
            if language is not None:
                counts[language] = counts.get(language, 0) + 1
    return counts


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class LanguageDetector(GraphComponent):
    """Adds graded ``language_detection`` to every message; see the module docstring."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults, tuned on short customer-service messages in all nine languages."""
        return {
            # ISO 639-1 codes to tell apart; a subset of SUPPORTED_LANGUAGES, at least two.
            "languages": list(SUPPORTED_LANGUAGES),
            # Common languages we do not answer in but must not mistake for one we do: a Dutch
            # or Turkish sentence is reported as unsupported instead of as a bad German guess.
            # Scripts no supported language uses (Cyrillic, Hangul, Greek, …) need no model.
            "unsupported_languages": ["nl", "pl", "tr", "id", "vi", "sv"],
            # Metadata keys holding the channel's language or locale, first usable one wins.
            "hint_keys": ["language", "locale"],
            # Evidence needed for role "detected", in the detected language's script.
            "min_words": 3,
            "min_cjk_chars": 4,
            "min_arabic_words": 2,
            # lingua's confidence in a language is multiplied by this for every word of the
            # message that only this language uses (borderless/nlu/language_words.py); 1 = off.
            "word_weight": 4.0,
            # lingua's top confidence, and its lead over the runner-up, for "detected".
            "min_confidence": 0.5,
            "min_margin": 0.25,
            # The same for "guess"; below them a message gets role None, so a coin
            # flip such as "Olá" (es 0.51, pt 0.49) or "ok" (en 0.41, de 0.38) says nothing.
            "min_guess_confidence": 0.5,
            "min_guess_margin": 0.2,
            # Only this many characters of words are looked at; more adds latency, not accuracy.
            "max_chars": 1000,
            # Load all language models when the inference graph is built (about 0.45 s and
            # 260 MB) instead of during the first messages.
            "preload_models": True,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Nothing Rasa can check: this module imports ``lingua`` itself and fails early.

        Rasa uses these names both as import names (validation) and as distribution names
        (training fingerprint); ``lingua`` vs ``lingua-language-detector`` cannot be both.
        """
        return []

    def __init__(self, config: dict[str, Any], warm_up: bool = False) -> None:
        """Validates the config; builds the lingua detector now only if ``warm_up``."""
        self._config = {**self.get_default_config(), **config}
        self._languages = self._validated_languages(self._config["languages"])
        self._unsupported = tuple(
            code
            for code in (str(c).strip().lower() for c in self._config["unsupported_languages"])
            if code not in self._languages
        )
        hint_keys = self._config["hint_keys"]
        if isinstance(hint_keys, str):
            hint_keys = [hint_keys]
        self._hint_keys: tuple[str, ...] = tuple(hint_keys or ())
        self._min_words = int(self._config["min_words"])
        self._min_cjk_chars = int(self._config["min_cjk_chars"])
        self._min_arabic_words = int(self._config["min_arabic_words"])
        self._word_weight = float(self._config["word_weight"])
        self._min_confidence = float(self._config["min_confidence"])
        self._min_margin = float(self._config["min_margin"])
        self._min_guess_confidence = float(self._config["min_guess_confidence"])
        self._min_guess_margin = float(self._config["min_guess_margin"])
        self._max_chars = int(self._config["max_chars"])
        self._preload = bool(self._config["preload_models"])
        self._detector: LinguaDetector | None = None
        if warm_up:
            self._get_detector()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        """Creates the component; loads lingua's models only where messages will be parsed.

        In the training graph this component only runs the no-op ``process_training_data``,
        so ``rasa train`` does not pay for the models. In the inference graph they are loaded
        while the model loads, not while the first customer waits.
        """
        return cls(config, warm_up=_runs_inference(execution_context))

    @staticmethod
    def _validated_languages(value: Any) -> tuple[str, ...]:
        if isinstance(value, str) or not value:
            raise InvalidConfigException(
                f"LanguageDetector: 'languages' must be a list of codes, got {value!r}."
            )
        languages = tuple(dict.fromkeys(str(code).strip().lower() for code in value))
        unknown = [code for code in languages if code not in SUPPORTED_LANGUAGES]
        if unknown:
            raise InvalidConfigException(
                f"LanguageDetector: {unknown} not in SUPPORTED_LANGUAGES {SUPPORTED_LANGUAGES}."
            )
        if len(languages) < 2:
            raise InvalidConfigException(
                "LanguageDetector needs at least two languages to choose between."
            )
        return languages

    def _get_detector(self) -> LinguaDetector:
        if self._detector is None:
            self._detector = _lingua_detector(self._languages + self._unsupported, self._preload)
        return self._detector

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Leaves training data alone: nothing here is for DIET to learn."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds ``language_detection`` to each message; leaves its entities alone."""
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str):
            # Intent-only or action messages (end-to-end featurization) have no text.
            return
        hint = self._hint(message.get(METADATA))
        details = self.detect(text)
        details["hint"] = hint
        if hint is not None:
            language: str | None = hint
            role: str | None = ROLE_HINT
        elif details["strength"] == STRONG:
            language, role = details["detected"], ROLE_DETECTED
        elif details["strength"] == WEAK:
            language, role = details["detected"], ROLE_GUESS
        else:
            language, role = None, None
        details["language"], details["role"] = language, role
        message.set(DETECTION_ATTRIBUTE, details, add_to_output=True)
        logger.debug("Language detection: %s", details)  # no message text: it may hold PII

    def _hint(self, metadata: Any) -> str | None:
        """The first metadata language/locale that maps to a configured language."""
        if not isinstance(metadata, dict):
            return None
        for key in self._hint_keys:
            hint = normalize_locale(metadata.get(key), self._languages)
            if hint is not None:
                return hint
        return None

    def detect(self, text: str) -> dict[str, Any]:
        """Detects the language of ``text``, ignoring metadata.

        Returns a JSON-safe dict: ``detected`` (code or ``None``), ``confidence`` and
        ``runner_up``/``runner_up_confidence`` (lingua's, 0..1), ``units`` (words or CJK
        characters the detection rests on) and ``strength`` (``"strong"``, ``"weak"`` or
        ``"none"``).
        """
        details: dict[str, Any] = {
            "detected": None,
            "confidence": 0.0,
            "runner_up": None,
            "runner_up_confidence": 0.0,
            "units": 0,
            "strength": NONE,
            "unsupported": False,
        }
        if text.startswith("/"):
            # "/intent{...}" payloads are replaced wholesale by Rasa's RegexMessageHandler.
            return details
        evidence = extract_evidence(text, self._max_chars)
        supported_units = evidence.latin_words + evidence.arabic_words + evidence.cjk_chars
        if evidence.other_words >= self._min_words and evidence.other_words > supported_units:
            # Mostly a script none of our languages is written in (Cyrillic, Hangul, Thai, …).
            details.update(unsupported=True, units=evidence.other_words)
            return details
        if not evidence.text:
            return details
        ranking = [
            (value.language.iso_code_639_1.name.lower(), float(value.value))
            for value in self._get_detector().compute_language_confidence_values(
                lingua_text(evidence)
            )
        ]
        if ranking and ranking[0][0] in self._unsupported:
            # Not ours: say so when the evidence is strong, but never switch to it.
            top, confidence = ranking[0]
            runner_up = ranking[1][1] if len(ranking) > 1 else 0.0
            details["unsupported"] = (
                evidence.latin_words >= self._min_words
                and confidence >= self._min_confidence
                and confidence - runner_up >= self._min_margin
            )
            if details["unsupported"]:
                details.update(detected=top, confidence=round(confidence, 4))
                return details
        # Grade the supported languages among themselves: "danke" must stay a German guess
        # even when Dutch scored higher overall.
        ranking = [(code, value) for code, value in ranking if code in self._languages]
        if self._word_weight != 1.0 and evidence.latin_lower:
            # Function words only one of our languages uses ("ese", "merci", "você") settle
            # what character n-grams leave open on a short message.
            counts = word_evidence(evidence.latin_lower)
            ranking = sorted(
                (
                    (code, value * self._word_weight ** counts.get(code, 0))
                    for code, value in ranking
                ),
                key=lambda item: -item[1],
            )
        total = sum(value for _, value in ranking)
        if not ranking or total <= 0.0:
            return details
        if (
            ranking[0][0] == "zh"
            and "ja" in self._languages
            and japanese_kanji(evidence.cjk_text)
            and evidence.cjk_chars >= 2 * evidence.latin_words
        ):
            # Kanji-only Japanese ("住所変更"): lingua cannot tell it from Chinese, its words can.
            ranking = sorted(ranking, key=lambda item: item[0] != "ja")
            ranking[0], ranking[1] = ("ja", ranking[1][1]), ("zh", ranking[0][1])
        language, top_value = ranking[0]
        confidence = round(top_value / total, 4)
        runner_up_confidence = round(ranking[1][1] / total, 4) if len(ranking) > 1 else 0.0
        units = evidence.units_for(language)
        details.update(
            detected=language,
            confidence=confidence,
            runner_up=ranking[1][0] if len(ranking) > 1 else None,
            runner_up_confidence=runner_up_confidence,
            units=units,
        )
        margin = confidence - runner_up_confidence
        if (
            units >= self._min_units(language)
            and confidence >= self._min_confidence
            and margin >= self._min_margin
        ):
            details["strength"] = STRONG
        elif confidence >= self._min_guess_confidence and margin >= self._min_guess_margin:
            details["strength"] = WEAK
        return details

    def _min_units(self, language: str) -> int:
        if language in _CJK_LANGUAGES:
            return self._min_cjk_chars
        if language in _ARABIC_LANGUAGES:
            return self._min_arabic_words
        return self._min_words


def _runs_inference(execution_context: ExecutionContext) -> bool:
    """Whether this graph node parses messages (``process``) rather than training data."""
    node_name = execution_context.node_name
    node = execution_context.graph_schema.nodes.get(node_name) if node_name else None
    return node is not None and node.fn == "process"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class UnsupportedLanguageFallback(GraphComponent):
    """Turns the intent of a message in an unsupported language into ``nlu_fallback``.

    The classifier was trained on our languages only; on a Russian or Dutch sentence its top
    intent is a confident-looking accident. Answering that accident in English helps nobody,
    so such a message falls back, and ``action_not_understood`` lists the languages we speak.
    Place it after the intent classifier and before ``FallbackClassifier``.
    """

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> UnsupportedLanguageFallback:
        return cls()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            detection = message.get(DETECTION_ATTRIBUTE) or {}
            if detection.get("unsupported"):
                fallback = {"name": "nlu_fallback", "confidence": 1.0}
                ranking = [fallback, *(message.get("intent_ranking") or [])]
                message.set("intent", fallback, add_to_output=True)
                message.set("intent_ranking", ranking, add_to_output=True)
        return messages
