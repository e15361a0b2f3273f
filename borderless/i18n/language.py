"""Which languages Borderless speaks, and which one a conversation is in.

Pure Python on purpose: the NLU component (``borderless.nlu.language``), the rasa-sdk action
server and the NLG all import this, and the action server must not pay for importing Rasa.

The conversation language is *sticky*. A single short message ("ok", "danke", "👍") says little
about what language the customer reads, so only strong evidence switches the language:

* a channel hint (the website or messenger told us the customer's locale) always wins;
* a confident detection of a real sentence switches;
* a weak guess from a short message only fills the gap when no language is known yet;
* no evidence keeps the current language, or falls back to :data:`DEFAULT_LANGUAGE`.

The evidence arrives as the ``language_detection`` dict that ``LanguageDetector`` adds to the
parse output of every message (``tracker.latest_message["language_detection"]``): its
``language`` is the code and its ``role`` says how strong the evidence is (:data:`ROLE_HINT`,
:data:`ROLE_DETECTED`, :data:`ROLE_GUESS`, or ``None`` for none). It is deliberately not an
entity: ``rasa test`` would count a span-less entity as a wrong prediction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

#: ISO 639-1 codes of every language the assistant answers in; the first is not special.
SUPPORTED_LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "it", "pt", "ja", "zh", "ar")

#: The language used before any evidence arrives.
DEFAULT_LANGUAGE = "en"

#: The channel told us the locale (message metadata ``language``/``locale``).
ROLE_HINT = "hint"
#: A sentence long and clear enough that the detection is trusted.
ROLE_DETECTED = "detected"
#: A short or ambiguous message; only good enough when nothing else is known.
ROLE_GUESS = "guess"

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


def choose_language(current: str | None, detection: Mapping[str, Any] | None) -> str:
    """The conversation language after a message, given the evidence the message carried.

    Args:
        current: the ``language`` slot before this message (``None`` at the start). An
            unsupported or malformed value counts as ``None`` so a stale slot heals itself.
        detection: the message's ``language_detection``, as written by ``LanguageDetector``;
            only its ``language`` and ``role`` are used. ``None`` (e.g. a message parsed
            without the detector) means no evidence.

    Returns:
        A code from :data:`SUPPORTED_LANGUAGES`, never ``None``.

    Rules, strongest first:

    * role ``hint`` or ``detected``: switch;
    * role ``guess``: use it only if there is no current language;
    * anything else (no detection, role ``None`` or unknown, an unsupported ``language``):
      keep ``current``, else :data:`DEFAULT_LANGUAGE`.
    """
    known = normalize_locale(current)
    if isinstance(detection, Mapping):
        language = normalize_locale(detection.get("language"))
        role = detection.get("role")
        if language is not None:
            if role in (ROLE_HINT, ROLE_DETECTED):
                return language
            if role == ROLE_GUESS and known is None:
                return language
    return known or DEFAULT_LANGUAGE
