"""Recognising order numbers the way customers actually type them.

Customers write ``#bl10001``, ``BL 10001``, ``bl-10001``, full-width letters and digits from a
Japanese keyboard or Arabic-Indic digits from a Saudi one. Every order system expects one
canonical spelling, so the assistant extracts and canonicalises here, once, before any lookup.

The format is configurable because each shop numbers orders its own way: ``pattern`` is a regular
expression (matched case-insensitively) with named groups, and ``canonical`` is a ``str.format``
template over those groups.
"""

from __future__ import annotations

import re
import string
import unicodedata

DEFAULT_PATTERN = r"(?<![0-9A-Za-z])BL[ \t]*[-_#:.]?[ \t]*(?P<digits>[0-9]{5,10})(?![0-9A-Za-z])"
DEFAULT_CANONICAL = "BL-{digits}"


class OrderNumberFormat:
    """Finds and canonicalises order numbers of one shop.

    >>> OrderNumberFormat().find("hi, my order is #bl10001, where is it?")
    'BL-10001'
    >>> OrderNumberFormat().normalize("10001")
    'BL-10001'
    """

    def __init__(self, pattern: str = DEFAULT_PATTERN, canonical: str = DEFAULT_CANONICAL) -> None:
        self.pattern = pattern
        self.canonical = canonical
        self._regex = re.compile(pattern, re.IGNORECASE)
        fields = {name for _, name, _, _ in string.Formatter().parse(canonical) if name}
        missing = fields - set(self._regex.groupindex)
        if missing:
            raise ValueError(
                f"canonical template uses {sorted(missing)}, which the pattern does not capture"
            )
        self._fields = fields

    def find(self, text: str) -> str | None:
        """The first order number in free text, canonicalised; ``None`` if there is none."""
        match = self._regex.search(_fold(text))
        return self._render(match) if match else None

    def normalize(self, value: str) -> str | None:
        """``value`` as a canonical order number, or ``None`` if it is not one.

        Unlike :meth:`find`, this accepts the bare digits (``"10001"``): it is meant for an answer
        to "what is your order number?", where a lone number can only mean the order.
        """
        folded = _fold(value).strip().lstrip("#").strip()
        match = self._regex.fullmatch(folded)
        if match:
            return self._render(match)
        if folded.isdigit() and self._fields <= {"digits"}:
            candidate = self.canonical.format(digits=folded)
            if self._regex.fullmatch(candidate):
                return candidate
        return None

    def _render(self, match: re.Match[str]) -> str:
        groups = {name: (value or "").upper() for name, value in match.groupdict().items()}
        return self.canonical.format(**groups)


def _fold(text: str) -> str:
    """Full-width forms to ASCII (NFKC) and every Unicode decimal digit to 0-9."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in folded)
