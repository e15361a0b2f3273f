"""An explainable frustration score for a conversation: why a ticket jumps the queue.

No model, on purpose: an agent (and a shop owner) must be able to read *why* a customer was
ranked as upset. Each signal adds a fixed amount and names itself; the score is capped at 1.
Signals: shouting (mostly capitals), piled-up ! or ?, the same message sent again, and
negative words in the customer's language. A complaint is upset by definition: it lifts the
score to at least :data:`COMPLAINT_FLOOR` (the one place this floor lives).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

# Words customers use when they are angry, per language, lowercased; substrings for CJK.
NEGATIVE_WORDS: dict[str, tuple[str, ...]] = {
    "en": (
        "terrible",
        "worst",
        "scam",
        "ridiculous",
        "useless",
        "unacceptable",
        "angry",
        "furious",
        "disgusting",
        "joke",
        "fraud",
        "never again",
        "awful",
    ),
    "de": (
        "frechheit",
        "unverschämt",
        "unverschaemt",
        "betrug",
        "katastrophe",
        "ärgerlich",
        "sauer",
        "wütend",
        "lächerlich",
        "unmöglich",
        "abzocke",
        "saftladen",
        "nie wieder",
    ),
    "fr": (
        "arnaque",
        "inadmissible",
        "honteux",
        "nul",
        "scandale",
        "inacceptable",
        "énervé",
        "furieux",
        "ridicule",
        "escroquerie",
        "jamais plus",
    ),
    "es": (
        "estafa",
        "vergüenza",
        "verguenza",
        "pésimo",
        "pesimo",
        "harto",
        "inaceptable",
        "ridículo",
        "fraude",
        "enojado",
        "indignante",
        "nunca más",
    ),
    "it": (
        "truffa",
        "vergogna",
        "pessimo",
        "schifo",
        "inaccettabile",
        "ridicolo",
        "arrabbiato",
        "furioso",
        "scandaloso",
        "mai più",
    ),
    "pt": (
        "golpe",
        "absurdo",
        "péssimo",
        "pessimo",
        "vergonha",
        "inaceitável",
        "ridículo",
        "fraude",
        "irritado",
        "palhaçada",
        "nunca mais",
    ),
    "ja": ("最悪", "ふざけ", "詐欺", "怒", "ひどい", "酷い", "許せない", "ありえない", "二度と"),
    "zh": ("骗子", "垃圾", "太差", "气死", "欺诈", "差评", "投诉", "无语", "恶心", "再也不"),
    "ar": ("نصب", "احتيال", "سيء", "زفت", "مهزلة", "غير مقبول", "حرامي", "غاضب", "فضيحة"),
}

SHOUTING, PILED_UP, REPEATED, NEGATIVE, COMPLAINT = 0.3, 0.15, 0.3, 0.25, 0.3
#: A complaint scores at least this: the "upset" threshold of the queue (routing.priority).
COMPLAINT_FLOOR = 0.7
_PILE = re.compile(r"[!?！？]{3,}")


@dataclass(frozen=True)
class Frustration:
    score: float
    reasons: tuple[str, ...]


def frustration(messages: Sequence[str], language: str, complained: bool = False) -> Frustration:
    """Score the customer's messages (oldest first); the latest counts most."""
    if not messages:
        return Frustration(COMPLAINT_FLOOR, ("complaint",)) if complained else Frustration(0.0, ())
    latest = messages[-1]
    score: float = 0.0
    reasons: list[str] = []
    letters = [c for c in latest if c.isalpha() and c.lower() != c.upper()]
    if len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.6:
        score, reasons = score + SHOUTING, [*reasons, "shouting"]
    if _PILE.search(latest):
        score, reasons = score + PILED_UP, [*reasons, "piled-up punctuation"]
    normalized = [_normalize(m) for m in messages[-4:]]
    if normalized[-1] and normalized[-1] in normalized[:-1]:
        score, reasons = score + REPEATED, [*reasons, "same message again"]
    text = latest.casefold()
    found = [w for w in NEGATIVE_WORDS.get(language, ()) if w in text][:2]
    if found:
        score += NEGATIVE * len(found)
        reasons.append("negative words: " + ", ".join(found))
    if complained:
        score, reasons = max(score + COMPLAINT, COMPLAINT_FLOOR), [*reasons, "complaint"]
    return Frustration(round(min(1.0, score), 2), tuple(reasons))


def _normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(re.sub(r"[^\w\s]", " ", folded).split())
