"""The circles repository: circles, their members (by pseudonym) and invite links."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from bot.db.database import Database


@dataclass(frozen=True)
class Member:
    circle_id: int
    user_key: str
    pseudonym: int
    relay_on: bool
    reveal: bool
    status: str

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class CircleSummary:
    id: int
    enterprise_id: int
    size: int
    opened_on: date
    last_activity_on: date


@dataclass(frozen=True)
class Invite:
    circle_id: int
    created_by: str
    expires_on: date
    revoked: bool
    used: bool


_MEMBER = "circle_id, user_key, pseudonym, relay_on, reveal, status"


def _member(row: sqlite3.Row) -> Member:
    return Member(
        circle_id=row["circle_id"],
        user_key=row["user_key"],
        pseudonym=row["pseudonym"],
        relay_on=bool(row["relay_on"]),
        reveal=bool(row["reveal"]),
        status=row["status"],
    )


class CirclesRepo:
    """SQL for ``circles``, ``circle_members`` and ``invites``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def circle_for(self, enterprise_id: int) -> int | None:
        row = await self._db.fetchone(
            "SELECT id FROM circles WHERE enterprise_id = ?", (enterprise_id,)
        )
        return int(row[0]) if row else None

    async def enterprise_of(self, circle_id: int) -> int | None:
        row = await self._db.fetchone(
            "SELECT enterprise_id FROM circles WHERE id = ?", (circle_id,)
        )
        return int(row[0]) if row else None

    async def open(self, enterprise_id: int, user_keys: list[str], today: date) -> int:
        """Open the enterprise's circle with these members, numbered in this order."""
        async with self._db.transaction() as tx:
            circle_id = await tx.insert(
                "INSERT INTO circles (enterprise_id, opened_on, last_activity_on, next_pseudonym)"
                " VALUES (?, ?, ?, ?)",
                (enterprise_id, today.isoformat(), today.isoformat(), len(user_keys) + 1),
            )
            await tx.executemany(
                "INSERT INTO circle_members (circle_id, user_key, pseudonym, joined_on)"
                " VALUES (?, ?, ?, ?)",
                [(circle_id, key, n, today.isoformat()) for n, key in enumerate(user_keys, 1)],
            )
        return circle_id

    async def join(self, circle_id: int, user_key: str, today: date) -> Member | None:
        """Add a member (a new pseudonym), or bring back one who left (the old one).

        Returns None for someone a volunteer removed: they cannot come back.
        """
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"SELECT {_MEMBER} FROM circle_members WHERE circle_id = ? AND user_key = ?",
                (circle_id, user_key),
            )
            if row is not None:
                if row["status"] == "removed":
                    return None
                await tx.execute(
                    "UPDATE circle_members SET status = 'active'"
                    " WHERE circle_id = ? AND user_key = ?",
                    (circle_id, user_key),
                )
            else:
                counter = await tx.fetchone(
                    "SELECT next_pseudonym FROM circles WHERE id = ?", (circle_id,)
                )
                assert counter is not None
                await tx.execute(
                    "INSERT INTO circle_members (circle_id, user_key, pseudonym, joined_on)"
                    " VALUES (?, ?, ?, ?)",
                    (circle_id, user_key, counter[0], today.isoformat()),
                )
                await tx.execute(
                    "UPDATE circles SET next_pseudonym = next_pseudonym + 1 WHERE id = ?",
                    (circle_id,),
                )
            row = await tx.fetchone(
                f"SELECT {_MEMBER} FROM circle_members WHERE circle_id = ? AND user_key = ?",
                (circle_id, user_key),
            )
        assert row is not None
        return _member(row)

    async def membership(self, user_key: str) -> Member | None:
        """The user's active membership, if any (one workplace, so one circle)."""
        row = await self._db.fetchone(
            f"SELECT {_MEMBER} FROM circle_members WHERE user_key = ? AND status = 'active'",
            (user_key,),
        )
        return _member(row) if row else None

    async def member(self, circle_id: int, user_key: str) -> Member | None:
        row = await self._db.fetchone(
            f"SELECT {_MEMBER} FROM circle_members WHERE circle_id = ? AND user_key = ?",
            (circle_id, user_key),
        )
        return _member(row) if row else None

    async def members(self, circle_id: int) -> list[Member]:
        """Active members, by pseudonym."""
        rows = await self._db.fetchall(
            f"SELECT {_MEMBER} FROM circle_members WHERE circle_id = ? AND status = 'active'"
            " ORDER BY pseudonym",
            (circle_id,),
        )
        return [_member(row) for row in rows]

    async def by_pseudonym(self, circle_id: int, pseudonym: int) -> Member | None:
        row = await self._db.fetchone(
            f"SELECT {_MEMBER} FROM circle_members WHERE circle_id = ? AND pseudonym = ?",
            (circle_id, pseudonym),
        )
        return _member(row) if row else None

    async def set_relay(self, circle_id: int, user_key: str, on: bool) -> None:
        await self._db.execute(
            "UPDATE circle_members SET relay_on = ? WHERE circle_id = ? AND user_key = ?",
            (int(on), circle_id, user_key),
        )

    async def set_reveal(self, circle_id: int, user_key: str, on: bool) -> None:
        await self._db.execute(
            "UPDATE circle_members SET reveal = ? WHERE circle_id = ? AND user_key = ?",
            (int(on), circle_id, user_key),
        )

    async def set_status(self, circle_id: int, user_key: str, status: str) -> None:
        """'left' (by choice or unreachable) or 'removed' (by a volunteer: no way back).

        Either way the member's invite links stop working: a removed informer must not bring
        new accounts in through links made before.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE circle_members SET status = ?, relay_on = 0, reveal = 0"
                " WHERE circle_id = ? AND user_key = ?",
                (status, circle_id, user_key),
            )
            await tx.execute(
                "UPDATE invites SET revoked = 1 WHERE circle_id = ? AND created_by = ?",
                (circle_id, user_key),
            )

    async def close_invites(self, circle_id: int) -> None:
        """No more links into this circle (it was merged away)."""
        await self._db.execute("UPDATE invites SET revoked = 1 WHERE circle_id = ?", (circle_id,))

    async def touch(self, circle_id: int, today: date) -> None:
        await self._db.execute(
            "UPDATE circles SET last_activity_on = ? WHERE id = ? AND last_activity_on != ?",
            (today.isoformat(), circle_id, today.isoformat()),
        )

    async def summaries(self) -> list[CircleSummary]:
        rows = await self._db.fetchall(
            "SELECT c.id, c.enterprise_id, c.opened_on, c.last_activity_on,"
            " (SELECT COUNT(*) FROM circle_members m WHERE m.circle_id = c.id"
            "  AND m.status = 'active') AS size FROM circles c ORDER BY c.last_activity_on DESC"
        )
        return [
            CircleSummary(
                id=row["id"],
                enterprise_id=row["enterprise_id"],
                size=row["size"],
                opened_on=date.fromisoformat(row["opened_on"]),
                last_activity_on=date.fromisoformat(row["last_activity_on"]),
            )
            for row in rows
        ]

    async def add_invite(
        self, token_hash: str, circle_id: int, created_by: str, expires_on: date
    ) -> None:
        await self._db.execute(
            "INSERT INTO invites (token_hash, circle_id, created_by, expires_on)"
            " VALUES (?, ?, ?, ?)",
            (token_hash, circle_id, created_by, expires_on.isoformat()),
        )

    async def invite(self, token_hash: str) -> Invite | None:
        row = await self._db.fetchone(
            "SELECT circle_id, created_by, expires_on, revoked, uses FROM invites"
            " WHERE token_hash = ?",
            (token_hash,),
        )
        if row is None:
            return None
        return Invite(
            circle_id=row["circle_id"],
            created_by=row["created_by"],
            expires_on=date.fromisoformat(row["expires_on"]),
            revoked=bool(row["revoked"]),
            used=row["uses"] > 0,
        )

    async def claim_invite(self, token_hash: str, today: date) -> bool:
        """Use up a link, once: True for the one caller who got it while it was still valid."""
        changed = await self._db.execute(
            "UPDATE invites SET uses = uses + 1 WHERE token_hash = ? AND uses = 0"
            " AND revoked = 0 AND expires_on >= ?",
            (token_hash, today.isoformat()),
        )
        return changed > 0

    async def unclaim_invite(self, token_hash: str) -> None:
        """Give a link back when the join it was claimed for did not happen."""
        await self._db.execute("UPDATE invites SET uses = 0 WHERE token_hash = ?", (token_hash,))

    async def revoke_invites(self, circle_id: int, created_by: str) -> int:
        """Revoke every link this member made for this circle; returns how many."""
        return await self._db.execute(
            "UPDATE invites SET revoked = 1"
            " WHERE circle_id = ? AND created_by = ? AND revoked = 0",
            (circle_id, created_by),
        )
