"""record_event(kind, user_key, **fields): what every flow calls; statistics read only events.

The dispatcher holds one :class:`EventRecorder` under the name ``record_event``, so a handler
declares ``record_event: EventRecorder`` and calls ``await record_event(EventKind.X, key)``.
"""

from __future__ import annotations

from datetime import UTC, tzinfo
from enum import StrEnum

from bot.clock import Clock, utc_now
from bot.db.events import EventsRepo, FieldValue

#: A field value longer than this is refused: events hold ids and small facts, never free text.
MAX_FIELD_LENGTH = 64


class EventKind(StrEnum):
    """Every kind of event a flow may record. Later flows add theirs here."""

    USER_STARTED = "user_started"
    USER_ACTIVE = "user_active"  # once a day per user, with the language: "active users"
    USER_FORGOTTEN = "user_forgotten"  # /forget; recorded without a key, after the erasure
    LANGUAGE_SET = "language_set"
    GUIDE_STARTED = "guide_started"
    GUIDE_STEP_VIEWED = "guide_step_viewed"
    GUIDE_COMPLETED = "guide_completed"
    CHECKLIST_BUILT = "checklist_built"
    CHECKLIST_ITEM_DONE = "checklist_item_done"
    DOCUMENT_GENERATED = "document_generated"
    FAQ_SEARCHED = "faq_searched"
    INTEREST_REGISTERED = "interest_registered"
    ENTERPRISE_PENDING = "enterprise_pending"
    CIRCLE_OPENED = "circle_opened"
    CIRCLE_JOINED = "circle_joined"
    CIRCLE_LEFT = "circle_left"
    CIRCLE_MESSAGE = "circle_message"
    CIRCLE_FOUNDERS_REACHED = "circle_founders_reached"
    REVEAL_OPT_IN = "reveal_opt_in"
    INVITE_CREATED = "invite_created"
    INVITE_USED = "invite_used"
    CASE_OPENED = "case_opened"
    CASE_TAKEN = "case_taken"
    CASE_FIRST_RESPONSE = "case_first_response"
    CASE_CLOSED = "case_closed"
    CASE_REOPENED = "case_reopened"
    CASE_RATED = "case_rated"


class EventRecorder:
    """Writes events dated by the bot's clock, as a day in the bot's time zone."""

    def __init__(self, repo: EventsRepo, clock: Clock = utc_now, tz: tzinfo = UTC) -> None:
        self._repo = repo
        self._clock = clock
        self._tz = tz

    async def __call__(
        self, kind: EventKind, user_key: str | None, /, **fields: FieldValue
    ) -> None:
        for name, value in fields.items():
            if isinstance(value, str) and len(value) > MAX_FIELD_LENGTH:
                raise ValueError(f"event field {name!r} is too long to be a fact: free text?")
        day = self._clock().astimezone(self._tz).date()
        await self._repo.add(kind.value, user_key, day, fields)
