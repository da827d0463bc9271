"""record_event(kind, user_key, **fields): what every flow calls; statistics read only events.

The dispatcher holds one :class:`EventRecorder` under the name ``record_event``, so a handler
declares ``record_event: EventRecorder`` and calls ``await record_event(EventKind.X, key)``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

from bot.db.events import EventsRepo, FieldValue

#: A field value longer than this is refused: events hold ids and small facts, never free text.
MAX_FIELD_LENGTH = 64


class EventKind(StrEnum):
    """Every kind of event a flow may record. Later flows add theirs here."""

    USER_STARTED = "user_started"
    LANGUAGE_SET = "language_set"
    GUIDE_STARTED = "guide_started"
    GUIDE_STEP_VIEWED = "guide_step_viewed"
    GUIDE_COMPLETED = "guide_completed"
    CHECKLIST_BUILT = "checklist_built"
    CHECKLIST_ITEM_DONE = "checklist_item_done"
    DOCUMENT_GENERATED = "document_generated"
    FAQ_SEARCHED = "faq_searched"


class EventRecorder:
    """Writes events with a timestamp from an injectable clock (tests control time)."""

    def __init__(
        self, repo: EventsRepo, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._repo = repo
        self._clock = clock

    async def __call__(
        self, kind: EventKind, user_key: str | None, /, **fields: FieldValue
    ) -> None:
        for name, value in fields.items():
            if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
                raise ValueError(f"event field {name!r} is too long to be a fact: free text?")
        await self._repo.add(kind.value, user_key, self._clock(), fields)
