"""The enterprises repository: the directory, pending names, aliases, and interests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.content.enterprises import DirectoryEntry
from bot.db.database import Database


@dataclass(frozen=True)
class Enterprise:
    id: int
    slug: str | None
    names: dict[str, str]  # locale → name
    cities: dict[str, str]  # locale → city
    status: str

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["en"]

    def city(self, locale: str) -> str:
        return self.cities.get(locale) or self.cities["en"]

    @property
    def pending(self) -> bool:
        return self.status == "pending"


_COLUMNS = "id, slug, name_ru, name_be, name_en, city_ru, city_be, city_en, status"


def _enterprise(row: sqlite3.Row) -> Enterprise:
    return Enterprise(
        id=row["id"],
        slug=row["slug"],
        names={"ru": row["name_ru"], "be": row["name_be"], "en": row["name_en"]},
        cities={"ru": row["city_ru"], "be": row["city_be"], "en": row["city_en"]},
        status=row["status"],
    )


class EnterprisesRepo:
    """SQL for ``enterprises``, ``enterprise_aliases`` and ``interests``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def seed(
        self,
        entries: list[DirectoryEntry],
        skeleton: Callable[[str], str],
        today: date,
        digest: str,
    ) -> bool:
        """Bring the directory into the database and recompute every alias's skeleton.

        ``digest`` identifies the directory and the matching rules; when the database was last
        seeded with the same one, nothing is done. Returns whether it seeded.
        """
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT value FROM meta WHERE name = 'directory_digest'")
            if row is not None and row[0] == digest:
                return False
            await tx.executemany(
                "INSERT INTO enterprises (slug, name_ru, name_be, name_en, city_ru, city_be,"
                " city_en, created_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (slug) DO UPDATE SET name_ru = excluded.name_ru,"
                " name_be = excluded.name_be, name_en = excluded.name_en,"
                " city_ru = excluded.city_ru, city_be = excluded.city_be,"
                " city_en = excluded.city_en",
                [
                    (
                        e.slug,
                        e.name_ru,
                        e.name_be,
                        e.name_en,
                        e.city_ru,
                        e.city_be,
                        e.city_en,
                        today.isoformat(),
                    )
                    for e in entries
                ],
            )
            rows = await tx.fetchall("SELECT slug, id FROM enterprises WHERE slug IS NOT NULL")
            ids = {row[0]: row[1] for row in rows}
            await tx.executemany(
                "INSERT OR IGNORE INTO enterprise_aliases (skeleton, raw, enterprise_id)"
                " VALUES (?, ?, ?)",
                [(skeleton(a), a, ids[e.slug]) for e in entries for a in e.all_names()],
            )
            # The matching rules may have changed since an alias was stored: recompute.
            stale = [
                (old, raw, enterprise_id)
                for old, raw, enterprise_id in await tx.fetchall(
                    "SELECT skeleton, raw, enterprise_id FROM enterprise_aliases"
                )
                if skeleton(raw) != old
            ]
            await tx.executemany(
                "DELETE FROM enterprise_aliases WHERE skeleton = ?",
                [(old,) for old, _, _ in stale],
            )
            await tx.executemany(
                "INSERT OR IGNORE INTO enterprise_aliases (skeleton, raw, enterprise_id)"
                " VALUES (?, ?, ?)",
                [(skeleton(raw), raw, enterprise_id) for _, raw, enterprise_id in stale],
            )
            await tx.execute(
                "INSERT INTO meta (name, value) VALUES ('directory_digest', ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (digest,),
            )
        return True

    async def aliases(self) -> list[tuple[str, int]]:
        """(skeleton, enterprise id) of every enterprise that can be matched."""
        rows = await self._db.fetchall(
            "SELECT a.skeleton, a.enterprise_id FROM enterprise_aliases a"
            " JOIN enterprises e ON e.id = a.enterprise_id WHERE e.status != 'merged'"
        )
        return [(row[0], row[1]) for row in rows]

    async def get(self, enterprise_id: int) -> Enterprise | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM enterprises WHERE id = ?", (enterprise_id,)
        )
        return _enterprise(row) if row else None

    async def add_pending(self, name: str, city: str, key: str, today: date) -> Enterprise:
        """A workplace not in the directory, as the user wrote it, for volunteers to check."""
        async with self._db.transaction() as tx:
            enterprise_id = await tx.insert(
                "INSERT INTO enterprises (name_ru, name_be, name_en, city_ru, city_be, city_en,"
                " status, created_on) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                (name, name, name, city, city, city, today.isoformat()),
            )
            await tx.execute(
                "INSERT OR IGNORE INTO enterprise_aliases (skeleton, raw, enterprise_id)"
                " VALUES (?, ?, ?)",
                (key, name, enterprise_id),
            )
        enterprise = await self.get(enterprise_id)
        assert enterprise is not None
        return enterprise

    async def pending(self) -> list[tuple[Enterprise, int]]:
        """Pending enterprises with how many people named each, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))},"
            " (SELECT COUNT(*) FROM interests i WHERE i.enterprise_id = e.id) AS interested"
            " FROM enterprises e WHERE e.status = 'pending' ORDER BY e.id"
        )
        return [(_enterprise(row), row["interested"]) for row in rows]

    async def approve(self, enterprise_id: int) -> bool:
        changed = await self._db.execute(
            "UPDATE enterprises SET status = 'known' WHERE id = ? AND status = 'pending'",
            (enterprise_id,),
        )
        return changed > 0

    async def merge(self, pending_id: int, target_id: int) -> tuple[str, list[str]] | None:
        """Fold a pending enterprise into a known one: its name becomes an alias of the target.

        Returns the pending name and the keys of the users who named it (the caller moves them
        into the target's circle), or None when the ids do not allow a merge.
        """
        if pending_id == target_id:
            return None
        async with self._db.transaction() as tx:
            pending = await tx.fetchone(
                "SELECT name_en FROM enterprises WHERE id = ? AND status = 'pending'",
                (pending_id,),
            )
            target = await tx.fetchone(
                "SELECT id FROM enterprises WHERE id = ? AND status != 'merged'", (target_id,)
            )
            if pending is None or target is None:
                return None
            await tx.execute(
                "UPDATE enterprise_aliases SET enterprise_id = ? WHERE enterprise_id = ?",
                (target_id, pending_id),
            )
            await tx.execute(
                "UPDATE enterprises SET status = 'merged', merged_into = ? WHERE id = ?",
                (target_id, pending_id),
            )
            rows = await tx.fetchall(
                "SELECT user_key FROM interests WHERE enterprise_id = ?", (pending_id,)
            )
            await tx.execute("DELETE FROM interests WHERE enterprise_id = ?", (pending_id,))
        return str(pending[0]), [row[0] for row in rows]

    async def register_interest(self, user_key: str, enterprise_id: int, today: date) -> bool:
        """Record where the user works; returns False when it was already recorded."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT enterprise_id FROM interests WHERE user_key = ?", (user_key,)
            )
            if row is not None and row[0] == enterprise_id:
                return False
            await tx.execute(
                "INSERT INTO interests (user_key, enterprise_id, created_on) VALUES (?, ?, ?)"
                " ON CONFLICT (user_key) DO UPDATE SET enterprise_id = excluded.enterprise_id,"
                " created_on = excluded.created_on",
                (user_key, enterprise_id, today.isoformat()),
            )
        return True

    async def interest_of(self, user_key: str) -> Enterprise | None:
        row = await self._db.fetchone(
            f"SELECT {', '.join('e.' + c.strip() for c in _COLUMNS.split(','))}"
            " FROM interests i JOIN enterprises e ON e.id = i.enterprise_id WHERE i.user_key = ?",
            (user_key,),
        )
        return _enterprise(row) if row else None

    async def withdraw_interest(self, user_key: str) -> bool:
        return await self._db.execute("DELETE FROM interests WHERE user_key = ?", (user_key,)) > 0

    async def interested(self, enterprise_id: int) -> list[str]:
        """The keys of the users who want coworkers at this enterprise, earliest first."""
        rows = await self._db.fetchall(
            "SELECT user_key FROM interests WHERE enterprise_id = ? ORDER BY rowid",
            (enterprise_id,),
        )
        return [row[0] for row in rows]
