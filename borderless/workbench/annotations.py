"""What trainers decided about messages, in the workbench's own table (never in ``data/``).

One row per annotated message (the tracker store's event id is the key), holding the original
text, the intent the assistant predicted, the intent and entity spans the trainer set (in the
original text's character offsets, see :mod:`borderless.workbench.masking`) and the language.
SQLAlchemy Core, synchronous: the web app calls it from a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    select,
)
from sqlalchemy.engine import Engine

from borderless.i18n.language import SUPPORTED_LANGUAGES

metadata = MetaData()
annotations_table = Table(
    "workbench_annotations",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=False),
    Column("sender_id", String(255), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(8), nullable=False),
    Column("predicted_intent", String(255)),
    Column("intent", String(255), nullable=False),
    Column("entities", Text, nullable=False),
    Column("annotator", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


class AnnotationError(ValueError):
    """An annotation that cannot be stored; the message says what is wrong."""


@dataclass(frozen=True)
class EntitySpan:
    start: int
    end: int
    entity: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "entity": self.entity}


@dataclass(frozen=True)
class Annotation:
    event_id: int
    sender_id: str
    text: str
    language: str
    predicted_intent: str | None
    intent: str
    entities: tuple[EntitySpan, ...]
    annotator: str
    updated_at: datetime

    @property
    def corrected(self) -> bool:
        return self.intent != self.predicted_intent


def validate(
    text: str,
    intent: str,
    entities: Iterable[EntitySpan],
    language: str,
    *,
    intents: Sequence[str],
    entity_names: Sequence[str],
) -> tuple[EntitySpan, ...]:
    """Checks an annotation against the domain; returns the spans sorted, or raises."""
    if intent not in intents:
        raise AnnotationError(f"unknown intent {intent!r}; the domain has {len(intents)}")
    if language not in SUPPORTED_LANGUAGES:
        raise AnnotationError(f"language must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    spans = sorted(entities, key=lambda e: (e.start, e.end))
    for span in spans:
        if span.entity not in entity_names:
            raise AnnotationError(f"unknown entity {span.entity!r}")
        if not 0 <= span.start < span.end <= len(text):
            raise AnnotationError(f"entity span {span.start}..{span.end} is outside the text")
        if not text[span.start : span.end].strip():
            raise AnnotationError("an entity span must contain text")
    for first, second in pairwise(spans):
        if second.start < first.end:
            raise AnnotationError("entity spans overlap")
    return tuple(spans)


class AnnotationStore:
    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            create_engine(url_or_engine, future=True)
            if isinstance(url_or_engine, str)
            else url_or_engine
        )

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def save(
        self,
        *,
        event_id: int,
        sender_id: str,
        text: str,
        language: str,
        predicted_intent: str | None,
        intent: str,
        entities: Sequence[EntitySpan],
        annotator: str,
        now: datetime | None = None,
    ) -> Annotation:
        values = {
            "sender_id": sender_id,
            "text": text,
            "language": language,
            "predicted_intent": predicted_intent,
            "intent": intent,
            "entities": json.dumps([e.as_dict() for e in entities]),
            "annotator": annotator,
            "updated_at": now or datetime.now(timezone.utc),
        }
        table = annotations_table
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(table.c.event_id).where(table.c.event_id == event_id)
            ).first()
            if exists:
                conn.execute(table.update().where(table.c.event_id == event_id).values(**values))
            else:
                conn.execute(table.insert().values(event_id=event_id, **values))
        found = self.get(event_id)
        assert found is not None
        return found

    def get(self, event_id: int) -> Annotation | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(annotations_table).where(annotations_table.c.event_id == event_id)
            ).first()
        return _annotation(row) if row else None

    def for_events(self, event_ids: Iterable[int]) -> dict[int, Annotation]:
        ids = list(event_ids)
        if not ids:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(annotations_table).where(annotations_table.c.event_id.in_(ids))
            )
            return {row.event_id: _annotation(row) for row in rows}

    def all(self) -> list[Annotation]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(annotations_table).order_by(annotations_table.c.event_id))
            return [_annotation(row) for row in rows]

    def delete(self, event_id: int) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                annotations_table.delete().where(annotations_table.c.event_id == event_id)
            )
            return bool(result.rowcount)


def _annotation(row: Any) -> Annotation:
    updated = row.updated_at
    if updated.tzinfo is None:  # SQLite drops the zone
        updated = updated.replace(tzinfo=timezone.utc)
    return Annotation(
        event_id=int(row.event_id),
        sender_id=row.sender_id,
        text=row.text,
        language=row.language,
        predicted_intent=row.predicted_intent,
        intent=row.intent,
        entities=tuple(
            EntitySpan(int(e["start"]), int(e["end"]), str(e["entity"]))
            for e in json.loads(row.entities)
        ),
        annotator=row.annotator,
        updated_at=updated,
    )
