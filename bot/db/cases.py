"""The cases repository: hand-off cases, routing of group messages, volunteers, access log."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from bot.db.database import Database

_CASE = (
    "id, user_key, locale, topic, status, assignee, offered_to, thread_id, card_message_id,"
    " enterprise_id, opened_at, taken_at, responded, reminded, worker_told, opened_on,"
    " closed_on, rating"
)


@dataclass(frozen=True)
class Case:
    id: int
    user_key: str
    locale: str
    topic: str
    status: str
    assignee: str | None
    offered_to: str | None
    thread_id: int | None
    card_message_id: int | None
    enterprise_id: int | None  # shown to the assignee on request, when the worker agreed
    opened_at: datetime | None
    taken_at: datetime | None
    responded: bool
    reminded: bool
    worker_told: bool
    opened_on: date
    closed_on: date | None
    rating: int | None


def _case(row: sqlite3.Row) -> Case:
    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return Case(
        id=row["id"],
        user_key=row["user_key"],
        locale=row["locale"],
        topic=row["topic"],
        status=row["status"],
        assignee=row["assignee"],
        offered_to=row["offered_to"],
        thread_id=row["thread_id"],
        card_message_id=row["card_message_id"],
        enterprise_id=row["enterprise_id"],
        opened_at=moment(row["opened_at"]),
        taken_at=moment(row["taken_at"]),
        responded=bool(row["responded"]),
        reminded=bool(row["reminded"]),
        worker_told=bool(row["worker_told"]),
        opened_on=date.fromisoformat(row["opened_on"]),
        closed_on=date.fromisoformat(row["closed_on"]) if row["closed_on"] else None,
        rating=row["rating"],
    )


def minute(moment: datetime) -> str:
    """Times are kept to the minute only: enough for waits and reminders."""
    return moment.replace(second=0, microsecond=0).isoformat()


class CasesRepo:
    """SQL for ``cases``, ``case_messages``, ``volunteers``, ``access_log``, blocks."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, case_id: int) -> Case | None:
        row = await self._db.fetchone(f"SELECT {_CASE} FROM cases WHERE id = ?", (case_id,))
        return _case(row) if row else None

    async def active_for(self, user_key: str) -> Case | None:
        """The worker's case that is not closed, if any."""
        row = await self._db.fetchone(
            f"SELECT {_CASE} FROM cases WHERE user_key = ? AND status != 'closed'", (user_key,)
        )
        return _case(row) if row else None

    async def last_closed(self, user_key: str) -> Case | None:
        row = await self._db.fetchone(
            f"SELECT {_CASE} FROM cases WHERE user_key = ? AND status = 'closed'"
            " ORDER BY closed_on DESC, id DESC LIMIT 1",
            (user_key,),
        )
        return _case(row) if row else None

    async def count_for(self, user_key: str) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM cases WHERE user_key = ?", (user_key,))
        return int(row[0]) if row else 0

    async def by_thread(self, thread_id: int) -> Case | None:
        row = await self._db.fetchone(
            f"SELECT {_CASE} FROM cases WHERE thread_id = ? ORDER BY id DESC LIMIT 1", (thread_id,)
        )
        return _case(row) if row else None

    async def by_group_message(self, message_id: int) -> Case | None:
        row = await self._db.fetchone(
            f"SELECT {', '.join('c.' + c.strip() for c in _CASE.split(','))} FROM cases c"
            " LEFT JOIN case_messages m ON m.case_id = c.id"
            " WHERE c.card_message_id = ? OR m.group_message_id = ? LIMIT 1",
            (message_id, message_id),
        )
        return _case(row) if row else None

    async def open(
        self, user_key: str, locale: str, topic: str, enterprise_id: int | None, now: datetime
    ) -> Case | None:
        """A new case; None when the worker already has one open, or is blocked."""
        if await self.is_blocked(user_key):
            return None
        try:
            case_id = await self._db.insert(
                "INSERT INTO cases (user_key, locale, topic, enterprise_id, opened_at,"
                " opened_on) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user_key,
                    locale,
                    topic,
                    enterprise_id,
                    minute(now),
                    now.date().isoformat(),
                ),
            )
        except sqlite3.IntegrityError:
            return None
        return await self.get(case_id)

    async def reopen(self, case_id: int, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE cases SET status = 'open', assignee = NULL, offered_to = NULL,"
            " opened_at = ?, taken_at = NULL, responded = 0, reminded = 0, worker_told = 0,"
            " closed_on = NULL WHERE id = ? AND status = 'closed'",
            (minute(now), case_id),
        )
        return changed > 0

    async def set_routing(
        self, case_id: int, thread_id: int | None, card_message_id: int | None
    ) -> None:
        await self._db.execute(
            "UPDATE cases SET thread_id = COALESCE(?, thread_id),"
            " card_message_id = COALESCE(?, card_message_id) WHERE id = ?",
            (thread_id, card_message_id, case_id),
        )

    async def remember_message(self, case_id: int, group_message_id: int) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO case_messages (group_message_id, case_id) VALUES (?, ?)",
            (group_message_id, case_id),
        )

    async def take(self, case_id: int, volunteer_key: str, now: datetime) -> bool:
        """Assign an untaken case: exactly one of several simultaneous presses succeeds."""
        changed = await self._db.execute(
            "UPDATE cases SET status = 'taken', assignee = ?, taken_at = ?, offered_to = NULL"
            " WHERE id = ? AND status = 'open'",
            (volunteer_key, minute(now), case_id),
        )
        return changed > 0

    async def release(self, case_id: int, volunteer_key: str, now: datetime) -> bool:
        """Back to the queue: waiting (and its reminders) starts again."""
        changed = await self._db.execute(
            "UPDATE cases SET status = 'open', assignee = NULL, offered_to = NULL,"
            " opened_at = ?, reminded = 0, worker_told = 0"
            " WHERE id = ? AND status = 'taken' AND assignee = ?",
            (minute(now), case_id, volunteer_key),
        )
        return changed > 0

    async def offer(self, case_id: int, volunteer_key: str, to: str) -> bool:
        changed = await self._db.execute(
            "UPDATE cases SET offered_to = ? WHERE id = ? AND status = 'taken' AND assignee = ?",
            (to, case_id, volunteer_key),
        )
        return changed > 0

    async def accept(self, case_id: int, volunteer_key: str) -> bool:
        """Accept a transfer offered to this volunteer (or to anyone): atomic, like take."""
        changed = await self._db.execute(
            "UPDATE cases SET assignee = ?, offered_to = NULL WHERE id = ? AND status = 'taken'"
            " AND offered_to IS NOT NULL AND (offered_to = '*' OR offered_to = ?)"
            " AND assignee != ?",
            (volunteer_key, case_id, volunteer_key, volunteer_key),
        )
        return changed > 0

    async def mark_responded(self, case_id: int) -> bool:
        """The first answer of the volunteer; True only the first time."""
        changed = await self._db.execute(
            "UPDATE cases SET responded = 1 WHERE id = ? AND responded = 0", (case_id,)
        )
        return changed > 0

    async def close(self, case_id: int, today: date) -> bool:
        """Close, forgetting the times of day: only the days remain."""
        changed = await self._db.execute(
            "UPDATE cases SET status = 'closed', closed_on = ?, opened_at = NULL,"
            " taken_at = NULL, offered_to = NULL WHERE id = ? AND status != 'closed'",
            (today.isoformat(), case_id),
        )
        return changed > 0

    async def rate(self, case_id: int, user_key: str, score: int) -> bool:
        changed = await self._db.execute(
            "UPDATE cases SET rating = ? WHERE id = ? AND user_key = ? AND status = 'closed'"
            " AND rating IS NULL",
            (score, case_id, user_key),
        )
        return changed > 0

    async def waiting(self) -> list[Case]:
        """Open, untaken cases, oldest first (for reminders)."""
        rows = await self._db.fetchall(
            f"SELECT {_CASE} FROM cases WHERE status = 'open' ORDER BY id"
        )
        return [_case(row) for row in rows]

    async def mark(self, case_id: int, column: str) -> None:
        if column not in ("reminded", "worker_told"):
            raise ValueError(column)
        await self._db.execute(f"UPDATE cases SET {column} = 1 WHERE id = ?", (case_id,))

    # -- volunteers, the access log, blocks --------------------------------------------------

    async def alias(self, volunteer_key: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT alias FROM volunteers WHERE key = ?", (volunteer_key,)
        )
        return row[0] if row and row[0] else None

    async def set_alias(self, volunteer_key: str, alias: str) -> None:
        await self._db.execute(
            "INSERT INTO volunteers (key, alias) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET alias = excluded.alias",
            (volunteer_key, alias),
        )

    async def note_volunteer(self, volunteer_key: str, ref: bytes) -> None:
        """Keep the volunteer's sealed Telegram id, so that ``rotate-key`` can re-key them."""
        await self._db.execute(
            "INSERT INTO volunteers (key, ref) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET ref = excluded.ref",
            (volunteer_key, ref),
        )

    async def set_granted(self, volunteer_key: str, granted: bool) -> None:
        await self._db.execute(
            "INSERT INTO volunteers (key, granted) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET granted = excluded.granted",
            (volunteer_key, int(granted)),
        )

    async def is_granted(self, volunteer_key: str) -> bool:
        row = await self._db.fetchone(
            "SELECT granted FROM volunteers WHERE key = ?", (volunteer_key,)
        )
        return bool(row and row[0])

    async def log(self, volunteer_key: str, case_id: int | None, action: str, today: date) -> None:
        await self._db.execute(
            "INSERT INTO access_log (volunteer_key, case_id, action, day) VALUES (?, ?, ?, ?)",
            (volunteer_key, case_id, action, today.isoformat()),
        )

    async def access_log(self, case_id: int) -> list[tuple[str, str]]:
        rows = await self._db.fetchall(
            "SELECT volunteer_key, action FROM access_log WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def block(self, user_key: str, today: date) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO blocked_workers (user_key, blocked_on) VALUES (?, ?)",
            (user_key, today.isoformat()),
        )

    async def unblock(self, user_key: str) -> bool:
        return (
            await self._db.execute("DELETE FROM blocked_workers WHERE user_key = ?", (user_key,))
            > 0
        )

    async def is_blocked(self, user_key: str) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM blocked_workers WHERE user_key = ?", (user_key,)
        )
        return row is not None
