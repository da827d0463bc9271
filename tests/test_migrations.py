"""Numbered migrations: applied once, in order, in a transaction; old databases are upgraded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.db import Database, apply_migrations, current_version, latest_version
from bot.db import migrations as migrations_module
from bot.db.recent import RecentMessages


async def _tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


async def test_a_new_database_gets_every_migration(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "new.sqlite3")
    try:
        applied = await apply_migrations(db)
        assert applied == list(range(1, latest_version() + 1))
        assert await current_version(db) == latest_version()
        assert {"users", "events", "fsm_state", "schema_version"} <= await _tables(db)
    finally:
        await db.close()


async def test_applying_twice_is_a_no_op(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "twice.sqlite3")
    try:
        await apply_migrations(db)
        rows_before = await db.fetchall("SELECT version, applied_on FROM schema_version")
        assert await apply_migrations(db) == []
        rows_after = await db.fetchall("SELECT version, applied_on FROM schema_version")
        assert [tuple(r) for r in rows_after] == [tuple(r) for r in rows_before]
    finally:
        await db.close()


async def test_an_old_database_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = await Database.open(path)
    assert await apply_migrations(db, up_to=1) == [1]
    await db.execute(
        "INSERT INTO users (key, chat_ref, created_on, last_seen_on)"
        " VALUES ('k', x'00', '2026-01-01', '2026-01-01')"
    )
    assert "fsm_state" not in await _tables(db)
    await db.close()

    db = await Database.open(path)
    try:
        assert await apply_migrations(db) == list(range(2, latest_version() + 1))
        assert "fsm_state" in await _tables(db)
        row = await db.fetchone("SELECT created_on FROM users WHERE key = 'k'")
        assert row is not None
        assert row[0] == "2026-01-01"
    finally:
        await db.close()


async def test_a_failing_migration_leaves_no_trace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken_dir = tmp_path / "migrations"
    broken_dir.mkdir()
    (broken_dir / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);")
    (broken_dir / "0002_broken.sql").write_text(
        "CREATE TABLE b (x INTEGER);\nINSERT INTO no_such_table VALUES (1);"
    )
    monkeypatch.setattr(migrations_module, "MIGRATIONS_DIR", broken_dir)

    db = await Database.open(tmp_path / "broken.sqlite3")
    try:
        with pytest.raises(Exception, match="no_such_table"):
            await apply_migrations(db)
        assert await current_version(db) == 1
        tables = await _tables(db)
        assert "a" in tables
        assert "b" not in tables, "the half-applied migration was rolled back"
    finally:
        await db.close()


def test_migration_numbers_have_no_gaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0003_c.sql").write_text("")
    monkeypatch.setattr(migrations_module, "MIGRATIONS_DIR", tmp_path)
    with pytest.raises(RuntimeError, match="without gaps"):
        latest_version()


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "future.sqlite3")
    try:
        await apply_migrations(db)
        await db.execute(
            "INSERT INTO schema_version (version, applied_on) VALUES (999, '2030-01-01')"
        )
        with pytest.raises(RuntimeError, match="newer than this code"):
            await apply_migrations(db)
    finally:
        await db.close()


async def test_the_database_file_is_private(tmp_path: Path) -> None:
    import stat

    db = await Database.open(tmp_path / "private" / "bot.sqlite3")
    await db.close()
    assert stat.S_IMODE((tmp_path / "private").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "private" / "bot.sqlite3").stat().st_mode) == 0o600


async def test_noted_message_ids_are_kept_when_they_become_one_row_per_day(
    tmp_path: Path,
) -> None:
    """Migration 0011: the ids of a database in use are all still there for /wipe."""
    db = await Database.open(tmp_path / "old.sqlite3")
    try:
        await apply_migrations(db, up_to=10)
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO recent_messages (user_key, message_id, day) VALUES (?, ?, ?)",
                [
                    ("a", 3, "2026-11-23"),
                    ("a", 1, "2026-11-23"),
                    ("a", 9, "2026-11-24"),
                    ("b", 4, "2026-11-24"),
                ],
            )
        assert await apply_migrations(db) == [11]
        recent = RecentMessages(db)
        assert await recent.ids("a") == [1, 3, 9]
        assert await recent.ids("b") == [4]
        assert await recent.purge(date(2026, 11, 25)) == 2
        assert await recent.ids("a") == [9]
    finally:
        await db.close()
