"""Which languages Borderless speaks, and which one a conversation is in.

Pure Python on purpose: the NLU component (``borderless.nlu.language``), the rasa-sdk action
server and the NLG all import this, and the action server must not pay for importing Rasa.

The conversation language is *sticky*. A single short message ("ok", "danke", "👍") says little
about what language the customer reads, so only strong evidence switches the language:

* a channel hint (the website or messenger told us the customer's locale) always wins;
* a confident detection of a real sentence switches;
* a weak guess from a short message only fills the gap when no language is known yet;
* no evidence keeps the current language, or falls back to :data:`DEFAULT_LANGUAGE`.

The evidence arrives as the ``language`` entity written by ``LanguageDetector``; its ``role``
says how strong it is (:data:`ROLE_HINT`, :data:`ROLE_DETECTED`, :data:`ROLE_GUESS`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: ISO 639-1 codes of every language the assistant answers in; the first is not special.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "ja", "zh", "ar")

#: The language used before any evidence arrives.
DEFAULT_LANGUAGE = "en"

#: Name of the entity carrying the language evidence.
LANGUAGE_ENTITY = "language"

#: The channel told us the locale (message metadata ``language``/``locale``).
ROLE_HINT = "hint"
#: A sentence long and clear enough that the detection is trusted.
ROLE_DETECTED = "detected"
#: A short or ambiguous message; only good enough when nothing else is known.
ROLE_GUESS = "guess"

# Strongest first; used when several language entities compete.
_ROLE_RANK = {ROLE_HINT: 0, None: 0, ROLE_DETECTED: 1, ROLE_GUESS: 2}

# "de-DE", "pt_BR", "zh-Hans-CN", "en_US.UTF-8", "sr@latin": the primary subtag comes first.
_SUBTAG_SEPARATORS = re.compile(r"[-_.@\s]+")


def normalize_locale(value: Any, supported: Iterable[str] = SUPPORTED_LANGUAGES) -> str | None:
    """Map a locale or language tag to a supported ISO 639-1 code, or ``None``.

    Channels report locales in every convention there is (BCP 47 ``de-DE``, POSIX ``pt_BR`` or
    ``en_US.UTF-8``, scripts as in ``zh-Hans-CN``), in any case. Only the primary language
    subtag matters for choosing replies, so region and script are dropped. Anything that is not
    a string, or whose language is not in ``supported``, is ``None`` rather than an error: a
    hint we cannot use must never break a conversation.

    >>> normalize_locale("pt_BR"), normalize_locale("zh-Hans-CN"), normalize_locale("ru")
    ('pt', 'zh', None)
    """
    if not isinstance(value, str):
        return None
    primary = _SUBTAG_SEPARATORS.split(value.strip().lower(), maxsplit=1)[0]
    if len(primary) != 2 or not primary.isascii() or not primary.isalpha():
        return None
    return primary if primary in tuple(supported) else None


def entity_role(entity: Mapping[str, Any]) -> str | None:
    """The role of a ``language`` entity: ``None`` if it has none, ``""`` if it is malformed.

    The difference matters: a role-less entity is an explicit choice, a malformed one is
    evidence nobody understands and is ignored.
    """
    role = entity.get("role")
    if role is None:
        return None
    return role if isinstance(role, str) else ""


def pick_language_entity(entities: Iterable[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """The strongest usable ``language`` entity of a parsed message, or ``None``.

    ``LanguageDetector`` emits at most one, but a button payload such as
    ``/choose_language{"language": "de"}`` adds a role-less one (Rasa's RegexMessageHandler), and
    other extractors might add more. The strongest role wins, then the earliest entity.
    """
    best: dict[str, Any] | None = None
    best_rank = len(_ROLE_RANK)
    for entity in entities or ():
        if not isinstance(entity, Mapping) or entity.get("entity") != LANGUAGE_ENTITY:
            continue
        rank = _ROLE_RANK.get(entity_role(entity), len(_ROLE_RANK))
        if rank < best_rank and normalize_locale(entity.get("value")) is not None:
            best, best_rank = dict(entity), rank
    return best


def choose_language(current: str | None, entity: Mapping[str, Any] | None) -> str:
    """The conversation language after a message, given the evidence the message carried.

    Args:
        current: the ``language`` slot before this message (``None`` at the start). An
            unsupported or malformed value counts as ``None`` so a stale slot heals itself.
        entity: the message's ``language`` entity, as written by ``LanguageDetector``.

    Returns:
        A code from :data:`SUPPORTED_LANGUAGES`, never ``None``.

    Rules, strongest first:

    * role ``hint``, or no role at all (an explicit choice, e.g. a "Deutsch" button sending
      ``/choose_language{"language": "de"}``): switch;
    * role ``detected``: switch;
    * role ``guess``: use it only if there is no current language;
    * no entity, an unknown role or an unsupported value: keep ``current``, else the default.
    """
    known = normalize_locale(current)
    value = normalize_locale(entity.get("value")) if isinstance(entity, Mapping) else None
    if value is not None and entity is not None:
        role = entity_role(entity)
        if role in (ROLE_HINT, ROLE_DETECTED, None):
            return value
        if role == ROLE_GUESS and known is None:
            return value
    return known or DEFAULT_LANGUAGE
