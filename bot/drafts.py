"""What a worker types into a document's fields, kept in this process's memory only.

The values are never written to the database or the conversation storage: they exist from the
first answer until the file is sent (or for ``ttl`` seconds), and a restart forgets them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Draft:
    document: str
    locale: str
    values: dict[str, str] = field(default_factory=dict)
    expires_at: float = 0.0


class DraftStore:
    """Drafts by user key, each forgotten ``ttl`` seconds after its last change."""

    def __init__(self, ttl: float = 1800.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._drafts: dict[str, Draft] = {}

    def start(self, user_key: str, document: str, locale: str) -> Draft:
        self._sweep()
        draft = Draft(document, locale, expires_at=self._clock() + self._ttl)
        self._drafts[user_key] = draft
        return draft

    def get(self, user_key: str) -> Draft | None:
        self._sweep()
        return self._drafts.get(user_key)

    def put(self, user_key: str, field_id: str, value: str) -> None:
        draft = self.get(user_key)
        if draft is not None:
            draft.values[field_id] = value
            draft.expires_at = self._clock() + self._ttl

    def drop(self, user_key: str) -> None:
        self._drafts.pop(user_key, None)

    def __len__(self) -> int:
        self._sweep()
        return len(self._drafts)

    def _sweep(self) -> None:
        now = self._clock()
        for key in [k for k, d in self._drafts.items() if d.expires_at <= now]:
            del self._drafts[key]
