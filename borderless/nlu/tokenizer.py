"""One tokenizer for every script the assistant reads: Latin, Arabic, Japanese and Chinese.

Rasa's ``WhitespaceTokenizer`` cannot split Japanese or Chinese, because they have no spaces, and
``JiebaTokenizer`` cannot split Japanese. One NLU model serves all nine languages, so
``MultilingualTokenizer`` splits each message into script runs and gives each run to the tool
that knows its script:

Japanese
    If the text contains any Hiragana or Katakana, its runs of Kana and Han characters are
    tokenized by SudachiPy (``sudachidict_core``), in split mode B by default. Sudachi's modes
    nest (every C boundary is a B boundary, every B boundary an A boundary), so B aligns with
    every entity annotation C aligns with and more: ``[アメリカ](country)合衆国`` or
    ``南[アフリカ](country)``. Mode B also shares more words between examples than C
    (``メール`` + ``アドレス`` rather than ``メールアドレス``), which helps a bag-of-words
    featurizer on a small data set, while keeping real words together (``共和国``, ``何日``)
    where mode A does not. The lemma is Sudachi's dictionary form (``届い`` -> ``届く``,
    ``ｱﾒﾘｶ`` -> ``アメリカ``), which ``CountVectorsFeaturizer`` uses by default.
Chinese
    If there is no Kana, runs of Han characters are tokenized by jieba, without its HMM for
    unknown words (see ``jieba_hmm`` below). Country and region names from Babel (simplified
    and traditional) that jieba does not know yet are added to its dictionary, so
    ``寄到[美国](country)要多久`` and ``寄到[北马其顿](country)要多久`` align.
Everything else
    Latin, Arabic, digits, order numbers, emails and phone numbers go through the regular
    expression of Rasa's ``WhitespaceTokenizer``, so ``BL-10001``, ``anna@example.de`` and
    ``+49`` stay whole exactly as they do there. It runs on a view of the text in which the
    Japanese/Chinese runs and CJK punctuation (``。``, ``、``, ``「``, ``：``, ...) are blanked out,
    so they separate tokens like spaces: ``我的订单BL-10001在哪里`` and
    ``追跡番号：9400111899223344556677`` give the order and tracking number as tokens of their
    own. Full-width ASCII (``ＢＬ－１０００１``) is read as its ASCII twin, so it stays one token
    too, with the ASCII form as its lemma; an email address has the lemma ``__email__``, a URL
    ``__url__`` (the classifier reads lemmas). Two departures from ``WhitespaceTokenizer``, both for
    entity alignment: ``#BL-10001`` gives ``BL-10001``, and dotted abbreviations keep their
    final dot (``EE.UU.``, ``U.S.``). Arabic proclitics are not split: ``لمصر`` ("to Egypt")
    is one token, so an annotation of ``مصر`` alone inside it cannot align.

Every token's ``text`` is the slice ``text[start:end]`` of the original message, so token offsets
always match entity offsets from annotations and from ``RegexEntityExtractor``. Tokens that are
only emoji are dropped; if nothing is left (``"😀"``, ``"??"``, ``""``) the whole text is one
token, as with ``WhitespaceTokenizer``. Training and inference go through the same
:meth:`MultilingualTokenizer.tokenize`, so they always tokenize alike.

Sudachi's dictionary (0.03-0.15 s) and jieba's (~0.6 s with the import and the Babel names) load
once per process, on the first message that needs them, and shared by every instance of the
component. A Sudachi ``Tokenizer`` must not be used by two threads at once, so each thread gets
its own from the shared dictionary (creating one takes microseconds).

Example ``config.yml`` entry (every key is optional)::

    - name: borderless.nlu.tokenizer.MultilingualTokenizer
      japanese_split_mode: B
      add_territory_names: true
      jieba_hmm: false
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import regex
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

SPLIT_MODES = ("A", "B", "C")

# Any Kana makes the whole text Japanese (Chinese never uses Kana).
_KANA = regex.compile(r"[\p{Hiragana}\p{Katakana}]")
# What Sudachi gets in a Japanese text: Han, Kana, the iteration marks 々〆〇〻, the prolonged
# sound mark ー (also half-width) and (half-width) voiced sound marks, which are not Kana script.
_JAPANESE_RUN = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}\u3005-\u3007\u303b\u3099-\u309c\u30fc\uff70\uff9e\uff9f]+"
)
# What jieba gets in a text without Kana.
_CHINESE_RUN = regex.compile(r"[\p{Han}\u3005-\u3007\u303b]+")
# CJK punctuation that separates words like a space does: 。、「」【】・ and the full-width
# ！＂＇（），：；＜＞？［］｛｝～. The full-width characters that can be part of a token
# (＃＄％＆＊＋－．／＝＠＼＾＿｀｜) are read as their ASCII twins, like the full-width letters.
_CJK_SEPARATOR = regex.compile(
    r"[\u3001-\u3004\u3008-\u3020\u3030\u303c-\u303f\u30fb\uff61-\uff65"
    r"\uff01\uff02\uff07-\uff09\uff0c\uff1a-\uff1c\uff1e\uff1f\uff3b\uff3d\uff5b\uff5d\uff5e]+"
)
# Full-width ASCII (U+FF01-U+FF5E) and the ideographic space, mapped one to one so that offsets
# in the view are offsets in the text.
_FULLWIDTH_TO_ASCII = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH_TO_ASCII[0x3000] = 0x20

# The expression of rasa.nlu.tokenizers.whitespace_tokenizer.WhitespaceTokenizer (Rasa 3.6),
# unchanged. Matches are blanked out with as many spaces as they are long, so that the words
# that remain keep their offsets.
_WHITESPACE_CLEANUP = regex.compile(
    # not a word character if there is a space or an end of a string after it
    r"[^\w#@&]+(?=\s|$)|"
    # there is a space or beginning of a string before it, not followed by a number
    r"(\s|^)[^\w#@&]+(?=[^0-9\s])|"
    # not in between numbers and not . or @ or & or - or #, e.g. 10'000.00 or blabla@gmail.com,
    # and not url characters
    r"(?<=[^0-9\s])[^\w._~:/?#\[\]()@!$&*+,;=-]+(?=[^0-9\s])"
)
_NON_SPACE = regex.compile(r"\S+")
# An abbreviation with dots ("EE.UU", "U.S", "z.B") whose final dot the expression above removed.
_DOTTED_ABBREVIATION = regex.compile(r"(?:\p{L}{1,3}\.)+\p{L}{1,3}")
_WORD_CHARACTER = regex.compile(r"\w")
# A token made of emoji only. Rasa's own emoji expression (rasa.utils.io.get_emoji_regex) also
# covers U+24C2-U+1F251, i.e. all of CJK and the full-width forms, so it cannot be used here.
_EMOJI_ONLY = regex.compile(
    r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}"
    r"\u200c\u200d\u20e3\ufe0e\ufe0f\U000e0020-\U000e007f]+"
)

# Sudachi refuses input over 49,149 UTF-8 bytes; a Kana/Han character takes three.
_SUDACHI_MAX_CHARS = 4096

# An email address or a URL says nothing about intent beyond "here is an address": its lemma is
# a placeholder, so the count featurizers see one feature instead of the character n-grams of
# "example.de" or "gmail.com" (which sent "anna@example.de" alone to nlu_fallback).
_EMAIL = regex.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = regex.compile(r"(?i)(?:https?://|www\.)\S+")
EMAIL_LEMMA = "__email__"
URL_LEMMA = "__url__"

# One Sudachi dictionary and one jieba tokenizer per process, built on first use.
_INIT_LOCK = threading.Lock()
_SUDACHI_DICTIONARY: Any = None
_SUDACHI_THREAD_LOCAL = threading.local()
_JIEBA_TOKENIZERS: dict[bool, Any] = {}
#: Seconds it took to load each backend in this process ("sudachi", "jieba"), for diagnostics.
INIT_SECONDS: dict[str, float] = {}


def _sudachi_dictionary() -> Any:
    global _SUDACHI_DICTIONARY
    if _SUDACHI_DICTIONARY is None:
        with _INIT_LOCK:
            if _SUDACHI_DICTIONARY is None:
                started = time.perf_counter()
                from sudachipy import Dictionary

                dictionary = Dictionary(dict="core")
                INIT_SECONDS["sudachi"] = time.perf_counter() - started
                logger.debug(f"Loaded the Sudachi dictionary in {INIT_SECONDS['sudachi']:.2f} s.")
                _SUDACHI_DICTIONARY = dictionary
    return _SUDACHI_DICTIONARY


def _sudachi_tokenizer(mode: str) -> Any:
    """This thread's Sudachi tokenizer for ``mode`` (a Sudachi tokenizer is not thread-safe)."""
    tokenizers = getattr(_SUDACHI_THREAD_LOCAL, "tokenizers", None)
    if tokenizers is None:
        tokenizers = _SUDACHI_THREAD_LOCAL.tokenizers = {}
    tokenizer = tokenizers.get(mode)
    if tokenizer is None:
        from sudachipy import SplitMode

        split_mode = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}[mode]
        tokenizer = tokenizers[mode] = _sudachi_dictionary().tokenizer(mode=split_mode)
    return tokenizer


def territory_names() -> list[str]:
    """Chinese (simplified and traditional) names of countries and regions, from Babel."""
    import babel

    names = set()
    for locale in ("zh", "zh_Hant"):
        for code, name in babel.Locale.parse(locale).territories.items():
            # Two letters: countries, territories, EU, UN. Not the numeric UN M.49 regions
            # ("世界", "亚洲") nor the pseudo/unknown regions (XA, XB, ZZ).
            if len(code) != 2 or not code.isalpha() or code.startswith("X") or code == "ZZ":
                continue
            # Names with brackets or hyphens ("刚果（金）") cannot be a jieba word.
            if _CHINESE_RUN.fullmatch(name):
                names.add(name)
    return sorted(names)


def _jieba_tokenizer(add_territory_names: bool) -> Any:
    tokenizer = _JIEBA_TOKENIZERS.get(add_territory_names)
    if tokenizer is None:
        with _INIT_LOCK:
            tokenizer = _JIEBA_TOKENIZERS.get(add_territory_names)
            if tokenizer is None:
                started = time.perf_counter()
                import jieba

                # jieba logs "Building prefix dict ..." to stderr at DEBUG level.
                jieba.setLogLevel(logging.WARNING)
                # A private instance, so jieba's global tokenizer (JiebaTokenizer) is untouched.
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                if add_territory_names:
                    for name in territory_names():
                        if not tokenizer.FREQ.get(name):
                            # Without a frequency jieba picks one just high enough to keep the
                            # name in one piece.
                            tokenizer.add_word(name)
                INIT_SECONDS["jieba"] = time.perf_counter() - started
                logger.debug(f"Loaded the jieba dictionary in {INIT_SECONDS['jieba']:.2f} s.")
                _JIEBA_TOKENIZERS[add_territory_names] = tokenizer
    return tokenizer


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class MultilingualTokenizer(Tokenizer):
    """Tokenizes Japanese with Sudachi, Chinese with jieba and everything else like Rasa's
    ``WhitespaceTokenizer``, with exact character offsets."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Returns the component's default config."""
        return {
            # Flag to check whether to split intents
            "intent_tokenization_flag": False,
            # Symbol on which intent should be split
            "intent_split_symbol": "_",
            # Regular expression to detect tokens
            "token_pattern": None,
            # Symbol on which prefix should be split
            "prefix_separator_symbol": None,
            # Sudachi split mode for Japanese: A (shortest units), B or C (named entities and
            # compounds as one token).
            "japanese_split_mode": "B",
            # Teach jieba Babel's Chinese country and region names.
            "add_territory_names": True,
            # Let jieba's HMM glue unknown characters into words. Off: unknown names fall apart
            # into single characters, so an entity like 瑜伽垫 in 瑜伽垫多厚 still aligns (with
            # the HMM: 瑜伽|垫多厚), and 我要/能换/没退 become 我|要, 能|换, 没|退, which shares
            # more words between examples.
            "jieba_hmm": False,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Python packages the component needs."""
        return ["sudachipy", "sudachidict_core", "jieba", "babel"]

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the config; the dictionaries are loaded when first needed."""
        super().__init__(config)
        mode = str(config.get("japanese_split_mode", "B")).upper()
        if mode not in SPLIT_MODES:
            raise InvalidConfigException(
                f"{type(self).__name__}: 'japanese_split_mode' must be one of "
                f"{', '.join(SPLIT_MODES)}, not {config.get('japanese_split_mode')!r}."
            )
        self.japanese_split_mode = mode
        self.add_territory_names = bool(config.get("add_territory_names", True))
        self.jieba_hmm = bool(config.get("jieba_hmm", False))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MultilingualTokenizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Tokenizes the text of the provided attribute of the incoming message."""
        text = message.get(attribute)
        tokens = self.tokenize_text(text)
        return self._apply_token_pattern(tokens)

    def tokenize_text(self, text: str) -> list[Token]:
        """Tokens of ``text`` in order; each token's text is ``text[token.start:token.end]``."""
        japanese = _KANA.search(text) is not None
        cjk_run = _JAPANESE_RUN if japanese else _CHINESE_RUN
        tokens: list[Token] = []
        view = list(text.translate(_FULLWIDTH_TO_ASCII))

        for run in cjk_run.finditer(text):
            start, end = run.span()
            view[start:end] = " " * (end - start)
            pieces = (
                self._japanese_pieces(run.group())
                if japanese
                else self._chinese_pieces(run.group())
            )
            for piece_start, piece_end, lemma in pieces:
                token_text = text[start + piece_start : start + piece_end]
                if _WORD_CHARACTER.search(token_text):
                    tokens.append(Token(token_text, start + piece_start, lemma=lemma))

        for separator in _CJK_SEPARATOR.finditer(text):
            start, end = separator.span()
            view[start:end] = " " * (end - start)

        tokens.extend(self._whitespace_tokens(text, "".join(view)))

        if not tokens:
            # Like WhitespaceTokenizer: if nothing is left (emoji, ":)"), the text is one token.
            return [Token(text, 0)]
        tokens.sort(key=lambda token: token.start)
        return tokens

    @staticmethod
    def _whitespace_tokens(text: str, view: str) -> list[Token]:
        """WhitespaceTokenizer's words of ``view``, with offsets and text from ``text``."""
        cleaned = _WHITESPACE_CLEANUP.sub(lambda match: " " * len(match.group()), view)
        tokens = []
        for word in _NON_SPACE.finditer(cleaned):
            start, end = word.span()
            if _EMOJI_ONLY.fullmatch(word.group()):
                continue
            # Two departures from WhitespaceTokenizer, both so that entities align: "#BL-10001"
            # gives "BL-10001" (entities and data/nlu/regex.yml never include the "#"), and
            # "EE.UU." keeps its final dot.
            hashes = len(word.group()) - len(word.group().lstrip("#"))
            if hashes and _WORD_CHARACTER.match(view, start + hashes, end):
                start += hashes
            if view[end : end + 1] == "." and _DOTTED_ABBREVIATION.fullmatch(view, start, end):
                end += 1
            # Full-width "ＢＬ－１０００１" gets "BL-10001" as its lemma; an address a placeholder.
            lemma = view[start:end]
            if _EMAIL.fullmatch(lemma):
                lemma = EMAIL_LEMMA
            elif _URL.fullmatch(lemma):
                lemma = URL_LEMMA
            tokens.append(Token(text[start:end], start, lemma=lemma))
        return tokens

    def _japanese_pieces(self, run: str) -> list[tuple[int, int, str | None]]:
        tokenizer = _sudachi_tokenizer(self.japanese_split_mode)
        pieces = []
        for offset in range(0, len(run), _SUDACHI_MAX_CHARS):
            chunk = run[offset : offset + _SUDACHI_MAX_CHARS]
            for morpheme in tokenizer.tokenize(chunk):
                pieces.append(
                    (
                        offset + morpheme.begin(),
                        offset + morpheme.end(),
                        morpheme.dictionary_form(),
                    )
                )
        return pieces

    def _chinese_pieces(self, run: str) -> list[tuple[int, int, str | None]]:
        tokenizer = _jieba_tokenizer(self.add_territory_names)
        return [(start, end, None) for _, start, end in tokenizer.tokenize(run, HMM=self.jieba_hmm)]
