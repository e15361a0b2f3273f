"""What a trainer sees: messages with masking applied, and the inbox of messages worth a look.

Everything that leaves the server for a trainer goes through :func:`message_view`, which masks
personal data unless the trainer may see it, and moves the predicted entities' offsets onto the
text that is shown, so the page can highlight them and send back offsets of the same text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from borderless.workbench.annotations import Annotation
from borderless.workbench.conversations import Conversation, Message
from borderless.workbench.masking import Redaction, mask, unmasked

# Why a message is in the inbox, most important first; the weights order the inbox.
REASONS = {
    "fallback": 4.0,
    "before_handoff": 3.0,
    "corrected": 2.5,
    "low_confidence": 2.0,
}


def redaction(text: str, see_personal_data: bool) -> Redaction:
    return unmasked(text) if see_personal_data else mask(text)


def message_view(
    message: Message, annotation: Annotation | None, see_personal_data: bool
) -> dict[str, Any]:
    shown = redaction(message.text, see_personal_data)
    entities = []
    for entity in message.entities:
        try:
            start, end = shown.to_rendered(int(entity["start"]), int(entity["end"]))
        except (KeyError, TypeError, ValueError):
            continue
        entities.append(
            {
                "entity": entity.get("entity"),
                "start": start,
                "end": end,
                "value": shown.text[start:end],
                "extractor": entity.get("extractor"),
            }
        )
    view: dict[str, Any] = {
        "event_id": message.event_id,
        "sender_id": message.sender_id,
        "text": shown.text,
        "masked": shown.changed,
        "at": message.at.isoformat(),
        "channel": message.channel,
        "language": message.language,
        "detection": {
            k: message.detection.get(k) for k in ("detected", "confidence", "role", "language")
        },
        "intent": message.intent,
        "top_intent": message.top_intent,
        "confidence": round(message.confidence, 4),
        "ranking": [
            {"name": r.get("name"), "confidence": round(float(r.get("confidence") or 0), 4)}
            for r in message.ranking
        ],
        "entities": entities,
        "actions": message.actions,
        "bot_texts": [redaction(t, see_personal_data).text for t in message.bot_texts],
        "fallback": message.fallback,
        "low_confidence": message.low_confidence,
        "before_handoff": message.before_handoff,
        "annotation": annotation_view(annotation, shown) if annotation else None,
    }
    return view


def annotation_view(annotation: Annotation, shown: Redaction) -> dict[str, Any]:
    entities = []
    for span in annotation.entities:
        start, end = shown.to_rendered(span.start, span.end)
        entities.append({"entity": span.entity, "start": start, "end": end})
    return {
        "intent": annotation.intent,
        "language": annotation.language,
        "entities": entities,
        "annotator": annotation.annotator,
        "corrected": annotation.corrected,
        "updated_at": annotation.updated_at.isoformat(),
    }


def conversation_summary(conversation: Conversation, see_personal_data: bool) -> dict[str, Any]:
    first = conversation.messages[0]
    return {
        "sender_id": conversation.sender_id,
        "started": first.at.isoformat(),
        "messages": len(conversation.messages),
        "languages": sorted(conversation.languages),
        "channels": sorted(conversation.channels),
        "outcomes": sorted(conversation.outcomes),
        # The customer's rating, 1-5, where they gave one in the web widget; else None.
        "csat": conversation.csat,
        "intents": sorted(conversation.intents),
        "first_text": redaction(first.text, see_personal_data).text,
    }


def normalized(text: str) -> str:
    """The dedup key: case, width and spacing folded, personal data replaced by placeholders
    (two customers asking the same with their own email are one inbox entry)."""
    folded = unicodedata.normalize("NFKC", mask(text).text).casefold()
    return re.sub(r"\s+", " ", folded).strip(" .!?。！？")


@dataclass
class InboxItem:
    message: Message
    reasons: list[str]
    score: float
    duplicates: int = 0


def inbox(
    conversations: Iterable[Conversation],
    annotations: Mapping[int, Annotation],
    *,
    include_annotated: bool = False,
    limit: int = 200,
) -> list[InboxItem]:
    """Messages that most need a trainer, deduplicated by :func:`normalized` text.

    A message already annotated leaves the inbox unless its annotation changed the intent (a
    human correction is worth a second look before export), or ``include_annotated``.
    """
    by_key: dict[str, InboxItem] = {}
    for conversation in conversations:
        for message in conversation.messages:
            if not message.text.strip() or message.text.startswith("/"):
                continue  # button payloads and empty messages are not language
            annotation = annotations.get(message.event_id)
            reasons = []
            if message.fallback:
                reasons.append("fallback")
            if message.before_handoff:
                reasons.append("before_handoff")
            if annotation is not None and annotation.corrected:
                reasons.append("corrected")
            if message.low_confidence and not message.fallback:
                reasons.append("low_confidence")
            if not reasons:
                continue
            if annotation is not None and not annotation.corrected and not include_annotated:
                continue
            score = sum(REASONS[r] for r in reasons) + (1.0 - message.confidence)
            key = normalized(message.text)
            current = by_key.get(key)
            if current is None:
                by_key[key] = InboxItem(message, reasons, score)
            else:
                current.duplicates += 1
                if score > current.score:
                    current.message, current.reasons, current.score = message, reasons, score
    items = sorted(by_key.values(), key=lambda i: (-i.score, -i.message.timestamp))
    return items[:limit]
