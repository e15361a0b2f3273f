"""Country names in every supported language → ISO 3166-1 alpha-2 codes, and back.

Pure Python (Babel and PyYAML only): the NLU gazetteer (``borderless.nlu.gazetteer``) and the
action server both use it, and the action server must not import Rasa.

Where the names come from
    Every CLDR territory with a two-letter code (numeric regions such as ``150``, pseudo
    codes such as ``EU``/``EZ``/``UN``/``QO``/``XA`` and the unknown region ``ZZ`` are left out)
    named in each language of :data:`SUPPORTED_LANGUAGES` plus a few regional variants CLDR
    spells differently (``zh_Hant`` 德國/美國, ``pt_PT``, ``es_419``, ``fr_CA``). From each name
    a shorter variant is derived where CLDR adds a qualifier: ``Myanmar (Burma)`` → ``Myanmar``;
    in English ``&`` → ``and`` and ``St.`` → ``Saint``. On top come the hand-written
    colloquial names and short forms of ``locales/country_aliases.yml`` (``USA``, ``the
    States``, ``Holland``, ``EE.UU.``, 米国, السعودية, ...), which also lists phrases that
    contain a country name without being one (``New Jersey``, ``South America``).

How text is matched (:class:`PhraseMatcher`, shared with the product gazetteer)
    * Every character is normalized on its own, so offsets into the normalized text are
      offsets into the original: lower case, Latin diacritics dropped (``España`` =
      ``espana``), full-width forms to ASCII (``ＵＳＡ``), dashes to spaces (``Saudi-Arabien``
      = ``Saudi Arabien``), apostrophes to spaces (``Cote d Ivoire``), and in Arabic
      أ/إ/آ → ا, ى → ي, ة → ه.
    * Latin and Arabic names match whole words only (``Oman`` is not in ``woman``); Arabic
      names also behind the clitics و/ب/ف/ل and with the article fused (``للسعودية``,
      ``وألمانيا``; the span starts after a separable clitic). Han names match anywhere
      (``寄到美国要多久``); Katakana names not inside a longer Katakana word (``インド`` is
      not in ``インドア``).
    * Short all-caps forms (``US``, ``UK``, ``UAE``, ``EAU``) and a few CLDR names that are
      also ordinary words (``Jersey``) match only as written, so "ship to us" names no country.
    * Matches never overlap; of overlapping candidates the longest wins (``Papua New
      Guinea`` is not also ``Guinea``).

The compiled tables are built once per process on first use (``CountryNames()`` itself is
cheap) and shared by every instance with the same languages and alias file.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from babel import Locale, UnknownLocaleError

from borderless.i18n.language import SUPPORTED_LANGUAGES
from borderless.settings import PROJECT_ROOT

ALIASES_FILE = PROJECT_ROOT / "locales" / "country_aliases.yml"

#: CLDR locales whose territory names differ from their language's default ones.
EXTRA_LOCALES: dict[str, tuple[str, ...]] = {
    "zh": ("zh_Hant", "zh_Hant_HK"),
    "pt": ("pt_PT",),
    "es": ("es_419",),
    "fr": ("fr_CA",),
}

# Two-letter CLDR codes that are not places: EU/EZ/UN and the private-use ranges
# (AA, QM–QZ, XA–XZ except Kosovo's XK, ZZ). QO "Outlying Oceania" is in QM–QZ.
_NOT_PLACES = frozenset({"EU", "EZ", "UN", "AA", "ZZ"})


def _is_place(code: str) -> bool:
    if len(code) != 2 or not code.isalpha() or not code.isupper() or code in _NOT_PLACES:
        return False
    if code[0] == "Q" and code[1] >= "M":
        return False
    return not (code[0] == "X" and code != "XK")


# Whole-answer ISO codes that are also everyday words, so a lower-case "no" (or "si", "us")
# on its own is an answer, not Norway. Upper case ("NO") still resolves.
_LOWERCASE_CODE_WORDS = frozenset({"no", "si", "us"})

PRIORITY_DERIVED = 0
PRIORITY_CLDR = 1
PRIORITY_ALIAS = 2


# --------------------------------------------------------------------------------------------
# Length-preserving normalization
# --------------------------------------------------------------------------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fb\u00b7"  # incl. ・ and ·
_APOSTROPHES = "\u2018\u2019\u02bc\u0060\u00b4\u2032"
_ARABIC = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"}
_RANGES = (
    (0x0000, 0x0250),  # ASCII, Latin-1, Latin Extended-A/B
    (0x0370, 0x0530),  # Greek, Cyrillic (lower case only)
    (0x1E00, 0x1F00),  # Latin Extended Additional (Vietnamese)
    (0x2010, 0x2040),  # dashes, quotes, prime
    (0x3000, 0x3001),  # ideographic space
    (0xFF01, 0xFF5F),  # full-width ASCII
)


def _fold_char(char: str, lower: bool) -> str:
    if 0xFF01 <= ord(char) <= 0xFF5E:
        char = chr(ord(char) - 0xFEE0)
    elif char == "\u3000":
        return " "
    if char in _DASHES:
        return " "
    if char in _APOSTROPHES or char == "'":
        return " "
    if char in _ARABIC:
        return _ARABIC[char]
    if lower:
        char = "i" if char == "\u0130" else char.lower()
    if char.isalpha() and "LATIN" in unicodedata.name(char, ""):
        char = unicodedata.normalize("NFD", char)[0]
    return char


def _table(lower: bool) -> dict[int, str]:
    table: dict[int, str] = {}
    for start, stop in _RANGES:
        for code_point in range(start, stop):
            char = chr(code_point)
            folded = _fold_char(char, lower)
            if folded != char:
                table[code_point] = folded
    for char in (*_ARABIC, *_DASHES, *_APOSTROPHES):
        table[ord(char)] = _fold_char(char, lower)
    return table


_FOLD = _table(lower=True)
_FOLD_KEEP_CASE = _table(lower=False)


def normalize(text: str) -> str:
    """Folded ``text`` of the same length: ``normalize(t)[i]`` stands for ``t[i]``."""
    return text.translate(_FOLD)


def normalize_keep_case(text: str) -> str:
    """Like :func:`normalize` but keeping upper and lower case (for case-sensitive forms)."""
    return text.translate(_FOLD_KEEP_CASE)


# Arabic short vowels, shadda, sukun, dagger alef and tatweel: CLDR writes "عُمان", customers "عمان".
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")


def _clean_phrase(phrase: str, fold: Any) -> str:
    """A gazetteer phrase in matching form: folded, single spaces, no Arabic vowel marks.

    Only phrases lose characters here; message text is folded character by character.
    """
    return " ".join(_ARABIC_MARKS.sub("", fold(phrase)).split())


# --------------------------------------------------------------------------------------------
# Scripts and word boundaries
# --------------------------------------------------------------------------------------------


def _is_katakana(char: str) -> bool:
    return "\u30a0" <= char <= "\u30ff" or "\u31f0" <= char <= "\u31ff" or char == "\uff70"


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return (
        0x2E80 <= code <= 0x9FFF  # radicals, kana, CJK symbols, Han
        or 0xAC00 <= code <= 0xD7AF  # Hangul
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
    )


# What a character means for word boundaries:
_FREE = 0  # no boundary needed next to it (spaces, punctuation, Han, Hiragana)
_WORD = 1  # a letter or digit of a script that separates words with spaces (Latin, Arabic)
_KATAKANA = 2  # Katakana words are runs of Katakana
_CLASSES: dict[str, int] = {}


def _char_class(char: str) -> int:
    kind = _CLASSES.get(char)
    if kind is None:
        if _is_katakana(char):
            kind = _KATAKANA
        elif (char.isalnum() or unicodedata.category(char) == "Mn") and not _is_cjk(char):
            kind = _WORD
        else:
            kind = _FREE
        if len(_CLASSES) < 100_000:
            _CLASSES[char] = kind
    return kind


def _boundary_before(text: str, index: int, first: str) -> bool:
    """May a phrase starting with ``first`` start at ``index``?"""
    kind = _char_class(first)
    return kind == _FREE or index == 0 or _char_class(text[index - 1]) != kind


def _boundary_after(text: str, index: int, last: str) -> bool:
    """May a phrase ending with ``last`` end just before ``index``?"""
    kind = _char_class(last)
    return kind == _FREE or index >= len(text) or _char_class(text[index]) != kind


def _is_arabic_letter(char: str) -> bool:
    return "\u0620" <= char <= "\u064a" or "\u066e" <= char <= "\u06d3"


# Arabic proclitics written onto the next word: (prefix, chars of the prefix outside the span).
_ARABIC_CLITICS = (("و", 1), ("ب", 1), ("ف", 1), ("ل", 1), ("وب", 2), ("ول", 2), ("فب", 2))
_ARTICLE = "ال"


def _arabic_forms(phrase: str) -> list[tuple[str, int]]:
    """``phrase`` as written behind clitics: (form, chars before the name's span)."""
    bases = [phrase]
    if not phrase.startswith(_ARTICLE):
        bases.append(_ARTICLE + phrase)  # "سماعات" → "السماعات"
    forms: list[tuple[str, int]] = []
    for base in bases:
        forms.extend((prefix + base, lead) for prefix, lead in _ARABIC_CLITICS)
        if base.startswith(_ARTICLE):
            # ل + ال fuse into لل: "للسعودية", "وللسعودية". The article has no span of its
            # own, so the span is the whole word (after a leading و).
            stem = base[len(_ARTICLE) :]
            forms.extend((("لل" + stem, 0), ("ولل" + stem, 1), ("فلل" + stem, 1)))
        if base is not phrase:
            forms.append((base, 0))
    return forms


# --------------------------------------------------------------------------------------------
# The matcher
# --------------------------------------------------------------------------------------------


class Match(NamedTuple):
    """One name found in a text: ``text[start:end] == surface``."""

    code: str
    start: int
    end: int
    surface: str


@dataclass
class _Entry:
    priority: int
    values: set[str | None] = field(default_factory=set)


class PhraseMatcher:
    """Finds known phrases in text and maps them to values (a country code, a product...).

    ``add`` phrases, then ``find_all``. A phrase added with value ``None`` blocks: it is
    consumed like a match but reported as nothing ("New Jersey" keeps "Jersey" from matching).
    When one phrase gets different values, the higher ``priority`` wins; a tie makes the
    phrase block, because an ambiguous name is better unrecognized than guessed.
    """

    def __init__(self) -> None:
        self._pending: dict[tuple[bool, str], dict[int, _Entry]] = {}
        self._compiled = False
        self._folded: dict[str, tuple[str | None, int]] = {}
        self._exact: dict[str, tuple[str | None, int]] = {}
        self._folded_lengths: dict[str, tuple[int, ...]] = {}
        self._exact_lengths: dict[str, tuple[int, ...]] = {}

    def add(
        self,
        phrase: str,
        value: str | None,
        *,
        priority: int = PRIORITY_CLDR,
        case_sensitive: bool = False,
    ) -> None:
        """Registers ``phrase`` (as a customer would write it) for ``value``."""
        fold = normalize_keep_case if case_sensitive else normalize
        cleaned = _clean_phrase(phrase, fold)
        if not cleaned:
            return
        self._put(case_sensitive, cleaned, 0, value, priority)
        # Also exactly as written, when that differs: "Congo - Kinshasa" folds to three
        # spaces in the text, "عُمان" keeps its vowel mark.
        raw = fold(phrase).strip()
        if raw != cleaned:
            self._put(case_sensitive, raw, 0, value, priority)
        if _is_arabic_letter(cleaned[0]):
            for form, lead in _arabic_forms(cleaned):
                # Clitic forms are derived: a real name spelled the same way wins.
                self._put(case_sensitive, form, lead, value, min(priority, PRIORITY_DERIVED))
        self._compiled = False

    def _put(self, exact: bool, form: str, lead: int, value: str | None, priority: int) -> None:
        by_lead = self._pending.setdefault((exact, form), {})
        entry = by_lead.setdefault(lead, _Entry(priority))
        if priority > entry.priority:
            entry.priority, entry.values = priority, set()
        if priority == entry.priority:
            entry.values.add(value)

    def compile(self) -> PhraseMatcher:
        """Freezes the phrases into lookup tables (done automatically on first use)."""
        folded: dict[str, tuple[str | None, int]] = {}
        exact: dict[str, tuple[str | None, int]] = {}
        for (is_exact, form), by_lead in self._pending.items():
            best_priority = max(entry.priority for entry in by_lead.values())
            candidates = [
                (lead, entry) for lead, entry in by_lead.items() if entry.priority == best_priority
            ]
            values = {value for _, entry in candidates for value in entry.values}
            value = next(iter(values)) if len(values) == 1 else None
            lead = min(lead for lead, _ in candidates)
            (exact if is_exact else folded)[form] = (value, lead)
        self._folded, self._exact = folded, exact
        self._folded_lengths = self._lengths(folded)
        self._exact_lengths = self._lengths(exact)
        self._compiled = True
        return self

    @staticmethod
    def _lengths(table: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        lengths: dict[str, set[int]] = {}
        for form in table:
            lengths.setdefault(form[0], set()).add(len(form))
        return {first: tuple(sorted(sizes, reverse=True)) for first, sizes in lengths.items()}

    def __len__(self) -> int:
        if not self._compiled:
            self.compile()
        return len(self._folded) + len(self._exact)

    def values(self) -> set[str]:
        """Every value some phrase maps to."""
        if not self._compiled:
            self.compile()
        return {
            value
            for table in (self._folded, self._exact)
            for value, _ in table.values()
            if value is not None
        }

    def find_all(self, text: str) -> list[Match]:
        """Non-overlapping matches in text order; where candidates overlap the longest wins.

        Every position contributes its longest phrase; then the longest candidates are kept
        first (the earlier one on a tie) and anything overlapping a kept one is dropped, so
        "Papua New Guinea" is not also "Guinea" and "New Jersey" (a blocking phrase) hides
        "Jersey".
        """
        if not self._compiled:
            self.compile()
        if not text:
            return []
        folded = normalize(text)
        exact = normalize_keep_case(text) if self._exact else ""
        candidates: list[tuple[int, int, str | None, int]] = []
        folded_lengths, exact_lengths = self._folded_lengths, self._exact_lengths
        for index, char in enumerate(folded):
            best = None
            sizes = folded_lengths.get(char)
            if sizes is not None:
                best = self._longest(folded, index, self._folded, sizes)
            if exact:
                sizes = exact_lengths.get(exact[index])
                if sizes is not None:
                    other = self._longest(exact, index, self._exact, sizes)
                    if other is not None and (best is None or other[0] > best[0]):
                        best = other
            if best is not None:
                candidates.append((best[0], index, best[1], best[2]))
        if len(candidates) > 1:
            candidates.sort(key=lambda candidate: (-candidate[0], candidate[1]))
            taken = bytearray(len(text))
            kept = []
            for candidate in candidates:
                length, index = candidate[0], candidate[1]
                if not any(taken[index : index + length]):
                    taken[index : index + length] = b"\x01" * length
                    kept.append(candidate)
            candidates = sorted(kept, key=lambda candidate: candidate[1])
        return [
            Match(value, index + lead, index + length, text[index + lead : index + length])
            for length, index, value, lead in candidates
            if value is not None
        ]

    @staticmethod
    def _longest(
        text: str,
        index: int,
        table: Mapping[str, tuple[str | None, int]],
        sizes: tuple[int, ...],
    ) -> tuple[int, str | None, int] | None:
        """The longest phrase of ``table`` at ``index`` (``sizes``: its lengths, longest first)."""
        if not _boundary_before(text, index, text[index]):
            return None
        remaining = len(text) - index
        for size in sizes:
            if size > remaining:
                continue
            hit = table.get(text[index : index + size])
            if hit is not None and _boundary_after(text, index + size, text[index + size - 1]):
                return size, hit[0], hit[1]
        return None


# --------------------------------------------------------------------------------------------
# Country names
# --------------------------------------------------------------------------------------------

_PARENTHESES = re.compile(r"\s*[(（][^)）]*[)）]\s*")
_ST = re.compile(r"\bSt\. ")


def _derived_names(name: str, language: str) -> set[str]:
    """Shorter spellings of a CLDR name: without the parenthesized part, ``&`` spelled out."""
    derived = set()
    bare = _PARENTHESES.sub(" ", name).strip()
    if bare and bare != name and len(bare) >= 2:
        derived.add(bare)
    if language == "en":
        forms = {name, *derived}
        forms |= {form.replace("&", "and") for form in forms}
        for saint in ("Saint ", "St "):
            forms |= {_ST.sub(saint, form) for form in forms}
        derived |= forms
    derived.discard(name)
    return derived


def _locales(languages: Iterable[str]) -> list[tuple[str, Locale]]:
    found: list[tuple[str, Locale]] = []
    for language in languages:
        for identifier in (language, *EXTRA_LOCALES.get(language, ())):
            try:
                found.append((language, Locale.parse(identifier)))
            except (UnknownLocaleError, ValueError):
                continue
    return found


@dataclass(frozen=True)
class _CountryIndex:
    matcher: PhraseMatcher
    codes: frozenset[str]
    names: int  # distinct matchable forms, for diagnostics


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping, with libyaml's parser when PyYAML has it (about 6× faster)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data


def load_aliases(path: Path) -> dict[str, Any]:
    """The alias file: ``aliases``, ``case_sensitive``, ``not_countries``, ``skip_names``."""
    if not path.exists():
        return {"aliases": {}, "case_sensitive": {}, "not_countries": [], "skip_names": []}
    raw = read_yaml(path)
    aliases: dict[str, dict[str, list[str]]] = {}
    for code, by_language in (raw.get("aliases") or {}).items():
        code = str(code).upper()
        if not isinstance(by_language, Mapping):
            raise ValueError(f"{path}: aliases.{code} must map languages to lists of names")
        aliases[code] = {str(lang): _as_list(names) for lang, names in by_language.items()}
    case_sensitive = {
        str(code).upper(): _as_list(names)
        for code, names in (raw.get("case_sensitive") or {}).items()
    }
    return {
        "aliases": aliases,
        "case_sensitive": case_sensitive,
        "not_countries": _as_list(raw.get("not_countries")),
        "skip_names": _as_list(raw.get("skip_names")),
    }


def _build_index(languages: tuple[str, ...], aliases_file: Path) -> _CountryIndex:
    matcher = PhraseMatcher()
    codes: set[str] = set()
    config = load_aliases(aliases_file)
    exact_codes = {name: code for code, names in config["case_sensitive"].items() for name in names}
    # CLDR names that are also words ("Jersey", "Mali") are matched only as written in
    # case_sensitive; skip_names are not matched at all (zh_Hant 查德 "Chad" in 检查德国).
    unused = {_clean_phrase(name, normalize) for name in (*exact_codes, *config["skip_names"])}
    for language, locale in _locales(languages):
        for code, name in locale.territories.items():
            if not _is_place(code):
                continue
            codes.add(code)
            if _clean_phrase(name, normalize) in unused:
                continue
            matcher.add(name, code, priority=PRIORITY_CLDR)
            for variant in _derived_names(name, language):
                if _clean_phrase(variant, normalize) not in unused:
                    matcher.add(variant, code, priority=PRIORITY_DERIVED)
    for code, by_language in config["aliases"].items():
        if code not in codes:
            raise ValueError(f"{aliases_file}: {code} is not a CLDR country code")
        for names in by_language.values():
            for name in names:
                matcher.add(name, code, priority=PRIORITY_ALIAS)
    for name, code in exact_codes.items():
        if code not in codes:
            raise ValueError(f"{aliases_file}: {code} is not a CLDR country code")
        matcher.add(name, code, priority=PRIORITY_ALIAS, case_sensitive=True)
    for phrase in config["not_countries"]:
        matcher.add(phrase, None, priority=PRIORITY_ALIAS + 1)
    matcher.compile()
    return _CountryIndex(matcher, frozenset(codes), len(matcher))


_INDEXES: dict[tuple[tuple[str, ...], str], _CountryIndex] = {}
_INDEXES_LOCK = threading.Lock()


def _index_for(languages: tuple[str, ...], aliases_file: Path) -> _CountryIndex:
    key = (languages, str(aliases_file))
    index = _INDEXES.get(key)
    if index is None:
        with _INDEXES_LOCK:
            index = _INDEXES.get(key)
            if index is None:
                index = _build_index(languages, aliases_file)
                _INDEXES[key] = index
    return index


_ANSWER_PUNCTUATION = " \t\r\n.,;:!?¡¿'\"()[]{}。，！？、「」"


class CountryNames:
    """Country names in the supported languages: find them in text, resolve answers, name codes.

    >>> countries = CountryNames()
    >>> countries.resolve("to germany pls")
    'DE'
    >>> [m.code for m in countries.find_all("寄到美国要多久")]
    ['US']
    >>> countries.name("DE", "ja")
    'ドイツ'
    """

    def __init__(
        self,
        languages: Iterable[str] = SUPPORTED_LANGUAGES,
        aliases_file: Path | str | None = None,
    ) -> None:
        self.languages = tuple(languages)
        self.aliases_file = Path(aliases_file) if aliases_file else ALIASES_FILE

    @property
    def _index(self) -> _CountryIndex:
        return _index_for(self.languages, self.aliases_file)

    def warm_up(self) -> CountryNames:
        """Builds the shared tables now rather than on the first message."""
        _ = self._index
        return self

    @property
    def codes(self) -> frozenset[str]:
        """Every ISO 3166-1 alpha-2 code that has names."""
        return self._index.codes

    @property
    def matcher(self) -> PhraseMatcher:
        return self._index.matcher

    def find_all(self, text: str) -> list[Match]:
        """Every country named in ``text``, left to right, with offsets into ``text``."""
        if not isinstance(text, str):
            return []
        return self._index.matcher.find_all(text)

    def resolve(self, text: str) -> str | None:
        """The one country a customer's answer names, or ``None``.

        ``"to germany pls"`` → ``"DE"``; an ISO code on its own (``"DE"``, ``"de"``) too, except
        lower-case codes that are everyday words (``"no"``, ``"si"``, ``"us"``). An answer
        naming two different countries ("from the US to Canada") is ambiguous: ``None``.
        """
        if not isinstance(text, str):
            return None
        answer = normalize_keep_case(text).strip(_ANSWER_PUNCTUATION)
        if len(answer) == 2 and answer.isascii() and answer.isalpha():
            code = answer.upper()
            if code in self.codes and (answer.isupper() or answer not in _LOWERCASE_CODE_WORDS):
                return code
        codes = list(dict.fromkeys(match.code for match in self.find_all(text)))
        return codes[0] if len(codes) == 1 else None

    def name(self, code: str, language: str) -> str:
        """The CLDR name of ``code`` in ``language`` (a language or locale, e.g. ``"pt_BR"``).

        Unknown languages fall back to English; an unknown code is returned as given.
        """
        code = (code or "").strip().upper()
        locale = _locale_or_english(language)
        return locale.territories.get(code) or Locale.parse("en").territories.get(code) or code


def _locale_or_english(language: str) -> Locale:
    try:
        return Locale.parse((language or "en").replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse("en")
