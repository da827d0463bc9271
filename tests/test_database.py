"""The database layer: statements on the loop, long reads in a thread, checkpoints that never
make the bot wait."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path

from aiogram.types import Chat, Message

from bot.db.database import Database
from bot.filters import CommandsOf


async def test_two_first_long_reads_open_one_reader_and_close_cleanly(tmp_path: Path) -> None:
    """Two long reads at once must not each open a reader (the spare one would keep the
    process alive after close)."""
    db = await Database.open(tmp_path / "db.sqlite3")
    await db.execute("CREATE TABLE t (x)")
    threads = threading.active_count()
    first, second = await asyncio.gather(db.read_long("SELECT 1"), db.read_long("SELECT 2"))
    assert (first[0][0], second[0][0]) == (1, 2)
    assert threading.active_count() == threads + 1
    await asyncio.wait_for(db.close(), 5)
    assert threading.active_count() == threads


async def test_a_checkpoint_during_a_long_read_returns_at_once_and_is_retried(
    tmp_path: Path,
) -> None:
    """While a reader holds a snapshot the WAL cannot be truncated: the checkpoint says so
    immediately (instead of stalling every chat for the busy timeout) and is marked due."""
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await db.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM t").fetchone()  # a snapshot is now held
    await db.execute("INSERT INTO t VALUES (1)")
    started = time.perf_counter()
    assert await db.checkpoint() is False
    assert time.perf_counter() - started < 1.0
    assert db.checkpoint_due
    reader.rollback()
    reader.close()
    assert await db.checkpoint() is True
    assert not db.checkpoint_due
    assert (path.parent / "db.sqlite3-wal").stat().st_size == 0
    await db.close()


async def test_commands_filter_takes_a_bare_slash_calmly() -> None:
    """ "/", "/ " and "/\\xa0" are no command, and no error either."""
    check = CommandsOf("start")
    chat = Chat(id=1, type="private")
    for text in ("/", "/ ", "/\xa0", "/start@bot", "/start x", "start"):
        message = Message(message_id=1, date=0, chat=chat, text=text)  # type: ignore[arg-type]
        assert await check(message) == text.startswith("/start")
