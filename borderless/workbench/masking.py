"""Personal data in customer messages: find it, hide it, and keep entity offsets right.

Trainers read thousands of real messages; most of them do not need to see an email address, a
phone number, an order number or a name to judge an intent. :func:`find_personal_data` finds
those spans; :class:`Redaction` replaces them (with ``[email]``-style placeholders for reading,
with fixed synthetic values for export) and maps character offsets both ways, so

* a trainer without ``see_personal_data`` selects an entity on the masked text and the server
  stores it in the original text's offsets (:meth:`Redaction.to_original`), and
* an export renders the original text with synthetic values and moves every entity span with it
  (:meth:`Redaction.to_rendered`): exported examples never hold real personal data.

A span that touches a replaced region grows to cover all of it: half an email is not an entity.
Offsets are Python ``str`` indices (code points), the same as the browser's DOM text offsets for
every script we use except astral-plane characters (emoji), which the browser side converts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

EMAIL = "email"
PHONE = "phone"
ORDER_NUMBER = "order_number"
NAME = "name"
KINDS = (EMAIL, PHONE, ORDER_NUMBER, NAME)

# The same shapes as data/nlu/regex.yml (what the assistant itself extracts), a bit wider:
# a masking miss leaks data, a masking excess only hides a harmless number.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (EMAIL, re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    (
        ORDER_NUMBER,
        re.compile(r"(?<![0-9A-Za-z])#?BL[ \t]*[-_#:.]?[ \t]*[0-9]{5,10}(?![0-9])", re.I),
    ),
    # International (+49 …, 0049 …) and national (030 1234567, (030) 123-4567) numbers with at
    # least 7 digits; bare digit runs of 10-15 digits too (they may be tracking numbers: fine).
    (PHONE, re.compile(r"(?<![\w+])(?:\+|00)[1-9](?:[ ./-]?\(?\d\)?){6,14}(?!\d)")),
    (PHONE, re.compile(r"(?<![\w+])\(?0\d{1,4}\)?[ ./-]?\d{3,}(?:[ ./-]?\d{2,}){0,3}(?!\d)")),
)

# "My name is X" in the nine languages; the name is the group. Capitalized words for scripts that
# have case; for CJK and Arabic up to a few characters of that script.
_LATIN_NAME = r"(?P<name>[A-ZÀ-ÖØ-Þ][\w'’-]+(?:[ \t]+[A-ZÀ-ÖØ-Þ][\w'’-]+)?)"
_NAME_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"(?i:my name is|i am|i'm|this is)[ \t]+" + _LATIN_NAME,
        r"(?i:ich heiße|ich heisse|mein name ist|hier ist)[ \t]+" + _LATIN_NAME,
        r"(?i:je m'appelle|je m’appelle|mon nom est|je suis)[ \t]+" + _LATIN_NAME,
        r"(?i:me llamo|mi nombre es|soy)[ \t]+" + _LATIN_NAME,
        r"(?i:mi chiamo|il mio nome è|sono)[ \t]+" + _LATIN_NAME,
        r"(?i:meu nome é|me chamo|sou o|sou a)[ \t]+" + _LATIN_NAME,
        r"(?:私は|わたしは)(?P<name>[\u3040-\u30ff\u4e00-\u9fff]{1,6}?)(?:です|と申します|といいます)",
        r"(?:我叫|我的名字是|我是)(?P<name>[\u4e00-\u9fff]{2,4})(?=[，。,.！!？?\s]|$)",
        r"(?:اسمي|أنا)[ \t]+(?P<name>[\u0621-\u064a]+(?:[ \t]+[\u0621-\u064a]+)?)",
    )
)

PLACEHOLDERS = {EMAIL: "[email]", PHONE: "[phone]", ORDER_NUMBER: "[order]", NAME: "[name]"}
# What an exported example says instead: realistic, so the regexes and the classifier still see
# the shape of the thing, and fixed, so exports are stable. 555 and example.com are reserved.
SYNTHETIC = {
    EMAIL: "customer@example.com",
    PHONE: "+1 555 0100",
    ORDER_NUMBER: "BL-10001",
    NAME: "Alex",
}


@dataclass(frozen=True)
class PersonalSpan:
    start: int
    end: int
    kind: str


def find_personal_data(text: str) -> list[PersonalSpan]:
    """Non-overlapping spans of personal data, earliest (then longest) first."""
    found: list[PersonalSpan] = []
    for kind, pattern in _PATTERNS:
        found.extend(PersonalSpan(m.start(), m.end(), kind) for m in pattern.finditer(text))
    for pattern in _NAME_PATTERNS:
        for match in pattern.finditer(text):
            found.append(PersonalSpan(match.start("name"), match.end("name"), NAME))
    found.sort(key=lambda s: (s.start, -(s.end - s.start)))
    spans: list[PersonalSpan] = []
    for span in found:
        if spans and span.start < spans[-1].end:
            continue
        spans.append(span)
    return spans


@dataclass(frozen=True)
class _Piece:
    original_start: int
    original_end: int
    rendered_start: int
    rendered_end: int
    replaced: bool


class Redaction:
    """``text`` with its personal spans replaced, and the offset maps between the two texts."""

    def __init__(
        self, text: str, spans: Iterable[PersonalSpan], replacements: dict[str, str]
    ) -> None:
        self.original = text
        self.spans = list(spans)
        pieces: list[_Piece] = []
        out: list[str] = []
        cursor = rendered = 0
        for span in self.spans:
            if span.start > cursor:
                length = span.start - cursor
                pieces.append(_Piece(cursor, span.start, rendered, rendered + length, False))
                out.append(text[cursor : span.start])
                rendered += length
            value = replacements[span.kind]
            pieces.append(_Piece(span.start, span.end, rendered, rendered + len(value), True))
            out.append(value)
            rendered += len(value)
            cursor = span.end
        if cursor < len(text) or not pieces:
            length = len(text) - cursor
            pieces.append(_Piece(cursor, len(text), rendered, rendered + length, False))
            out.append(text[cursor:])
        self.text = "".join(out)
        self._pieces = pieces

    @property
    def changed(self) -> bool:
        return bool(self.spans)

    def to_rendered(self, start: int, end: int) -> tuple[int, int]:
        """A span of the original text in the rendered text (grown over replaced regions)."""
        return self._map(start, end, forward=True)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """A span of the rendered text (what the trainer saw) in the original text."""
        return self._map(start, end, forward=False)

    def _map(self, start: int, end: int, *, forward: bool) -> tuple[int, int]:
        length = len(self.original) if forward else len(self.text)
        if not 0 <= start < end <= length:
            raise ValueError(f"span {start}..{end} is not inside the text (length {length})")
        new_start = new_end = 0
        for piece in self._pieces:
            if forward:
                src, dst = (
                    (piece.original_start, piece.original_end),
                    (
                        piece.rendered_start,
                        piece.rendered_end,
                    ),
                )
            else:
                src, dst = (
                    (piece.rendered_start, piece.rendered_end),
                    (
                        piece.original_start,
                        piece.original_end,
                    ),
                )
            if src[0] <= start < src[1]:
                new_start = dst[0] if piece.replaced else dst[0] + (start - src[0])
            if src[0] < end <= src[1]:
                new_end = dst[1] if piece.replaced else dst[0] + (end - src[0])
        return new_start, new_end


def mask(text: str) -> Redaction:
    """For reading: personal data as ``[email]``, ``[phone]``, ``[order]``, ``[name]``."""
    return Redaction(text, find_personal_data(text), PLACEHOLDERS)


def synthesize(text: str) -> Redaction:
    """For export: personal data replaced by fixed synthetic values of the same kind."""
    return Redaction(text, find_personal_data(text), SYNTHETIC)


def unmasked(text: str) -> Redaction:
    """The identity redaction, for trainers allowed to see personal data."""
    return Redaction(text, [], PLACEHOLDERS)
