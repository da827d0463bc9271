"""The guide repository: progress per user and pack, and the sealed personal checklist."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from bot.db.database import Database
from bot.identity import Identity


@dataclass
class Checklist:
    """Answers to the questionnaire, the steps that apply, and the ones ticked off."""

    answers: dict[str, str]
    items: list[str]
    done: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return json.dumps(
            {"answers": self.answers, "items": self.items, "done": self.done}
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Checklist:
        data = json.loads(raw)
        return cls(answers=data["answers"], items=data["items"], done=data["done"])


@dataclass(frozen=True)
class Progress:
    pack: str
    step: str | None  # None: a checklist was built, but no step read yet
    completed: bool
    checklist: Checklist | None


def checklist_context(user_key: str, pack: str) -> bytes:
    """What a sealed checklist is bound to: its row (``rotate-key`` re-seals it)."""
    return f"guide:{user_key}:{pack}".encode()


class GuideRepo:
    """SQL for ``guide_progress`` and ``users.guide_pack``."""

    def __init__(self, db: Database, identity: Identity) -> None:
        self._db = db
        self._identity = identity

    def _context(self, user_key: str, pack: str) -> bytes:
        return checklist_context(user_key, pack)

    async def checklist(self, user_key: str, pack: str) -> Checklist | None:
        """The user's checklist for the pack, if they answered its questions."""
        progress = await self.get(user_key, pack)
        return progress.checklist if progress else None

    async def get(self, user_key: str, pack: str) -> Progress | None:
        row = await self._db.fetchone(
            "SELECT step, completed, checklist FROM guide_progress"
            " WHERE user_key = ? AND pack = ?",
            (user_key, pack),
        )
        if row is None:
            return None
        checklist = None
        if row["checklist"] is not None:
            plain = self._identity.open(bytes(row["checklist"]), self._context(user_key, pack))
            checklist = Checklist.from_json(plain)
        return Progress(pack, row["step"], bool(row["completed"]), checklist)

    async def view_step(self, user_key: str, pack: str, step: str, today: date) -> bool:
        """Remember the step a user is on; returns True when this starts their progress."""
        # The common case (a step after a step) is one statement; only the first view of a
        # pack needs the insert. Each statement is atomic on its own.
        moved = await self._db.execute(
            "UPDATE guide_progress SET step = ?, updated_on = ?"
            " WHERE user_key = ? AND pack = ? AND step IS NOT NULL",
            (step, today.isoformat(), user_key, pack),
        )
        if moved:
            return False
        await self._db.execute(
            "INSERT INTO guide_progress (user_key, pack, step, updated_on)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_key, pack) DO UPDATE SET"
            " step = excluded.step, updated_on = excluded.updated_on",
            (user_key, pack, step, today.isoformat()),
        )
        return True

    async def complete(self, user_key: str, pack: str, today: date) -> bool:
        """Mark the guide read to the end; returns True the first time only."""
        changed = await self._db.execute(
            "UPDATE guide_progress SET completed = 1, updated_on = ?"
            " WHERE user_key = ? AND pack = ? AND completed = 0",
            (today.isoformat(), user_key, pack),
        )
        return changed > 0

    async def save_checklist(
        self, user_key: str, pack: str, checklist: Checklist | None, today: date
    ) -> None:
        sealed = None
        if checklist is not None:
            sealed = self._identity.seal(checklist.to_json(), self._context(user_key, pack))
        await self._db.execute(
            "INSERT INTO guide_progress (user_key, pack, checklist, updated_on)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (user_key, pack) DO UPDATE SET"
            " checklist = excluded.checklist, updated_on = excluded.updated_on",
            (user_key, pack, sealed, today.isoformat()),
        )

    async def chosen_pack(self, user_key: str) -> str | None:
        row = await self._db.fetchone("SELECT guide_pack FROM users WHERE key = ?", (user_key,))
        return row[0] if row else None

    async def choose_pack(self, user_key: str, pack: str) -> None:
        await self._db.execute("UPDATE users SET guide_pack = ? WHERE key = ?", (pack, user_key))
