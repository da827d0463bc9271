"""The database layer: statements on the loop, long reads in a thread, checkpoints that never
make the bot wait."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from aiogram.types import Chat, Message

from bot.app import Services
from bot.db.database import DEFER_AT, Database
from bot.db.events import EventsRepo
from bot.db.recent import RecentMessages
from bot.events import EventKind
from bot.filters import CommandsOf
from bot.message_ids import run_flush


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


# --- deferred rows --------------------------------------------------------------------------

INSERT = "INSERT INTO t (x) VALUES (?)"


async def _rows(db: Database) -> list[int]:
    return [int(row[0]) for row in await db.fetchall("SELECT x FROM t ORDER BY rowid")]


async def test_deferred_rows_wait_then_go_in_one_batch_in_order_and_at_close(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite3"
    db = await Database.open(path)
    await db.execute("CREATE TABLE t (x)")
    await db.execute("CREATE TABLE u (y)")
    for x in (3, 1, 2):
        await db.defer(INSERT, (x,))
    await db.defer("INSERT INTO u (y) VALUES (?)", (9,))
    assert await _rows(db) == [] and db.deferred == 4
    assert await db.write_deferred() == 4
    assert await _rows(db) == [3, 1, 2], "in the order they came"
    assert await db.write_deferred() == 0
    await db.defer(INSERT, (4,))
    await db.close()
    reopened = await Database.open(path)
    assert await _rows(reopened) == [3, 1, 2, 4], "close writes what waits"
    await reopened.close()


async def test_deferred_rows_go_at_once_when_many_wait(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    await db.execute("CREATE TABLE t (x)")
    for x in range(DEFER_AT - 1):
        await db.defer(INSERT, (x,))
    assert await _rows(db) == []
    await db.defer(INSERT, (DEFER_AT,))
    assert len(await _rows(db)) == DEFER_AT and db.deferred == 0
    await db.close()


async def test_a_writer_cancelled_while_waiting_for_a_transaction_keeps_the_rows(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    await db.execute("CREATE TABLE t (x)")
    await db.defer(INSERT, (1,))
    inside, leave = asyncio.Event(), asyncio.Event()

    async def long_transaction() -> None:
        async with db.transaction():
            inside.set()
            await leave.wait()

    holder = asyncio.create_task(long_transaction())
    await inside.wait()
    writer = asyncio.create_task(db.write_deferred())
    await asyncio.sleep(0)
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer
    leave.set()
    await holder
    assert db.deferred == 1, "still waiting, not lost"
    assert await db.write_deferred() == 1 and await _rows(db) == [1]
    await db.close()


async def test_a_batch_that_fails_is_reported_by_its_size_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    await db.execute("CREATE TABLE t (x)")
    await db.defer(INSERT, (1,))
    await db.defer("INSERT INTO missing (x) VALUES (?)", ("secret text",))
    with pytest.raises(sqlite3.OperationalError):
        await db.write_deferred()
    assert "2 deferred rows were not written" in caplog.text
    assert "secret" not in caplog.text
    assert db.deferred == 0 and await _rows(db) == [], "the batch rolled back as one"
    await db.defer(INSERT, (2,))
    assert await db.write_deferred() == 1, "later rows are not held up by the bad one"
    await db.close()


async def test_the_periodic_writer_writes_deferred_rows_every_tick(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    await db.execute("CREATE TABLE t (x)")
    recent = RecentMessages(db)
    writer = asyncio.create_task(
        run_flush(recent, db, lambda: date(2026, 11, 24), purge_every=10**9, deferred_every=0.01)
    )
    await db.defer(INSERT, (1,))
    for _ in range(100):
        await asyncio.sleep(0.01)
        if not db.deferred:
            break
    assert await _rows(db) == [1]
    await db.defer(INSERT, (2,))
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer
    assert await _rows(db) == [1, 2], "written once more when stopped"
    await db.close()


async def test_events_waiting_in_memory_are_counted_and_detached_by_forget(
    services: Services,
) -> None:
    """Readers of events write the waiting ones first: the report, /mydata and /forget see
    them; none is written under a key after its owner is forgotten."""
    key = services.identity.user_key(700_000_123)
    await services.record_event(EventKind.FAQ_SEARCHED, key, hit=True)
    assert services.db.deferred >= 1
    assert await services.events.count("faq_searched") == 1
    await services.record_event(EventKind.FAQ_SEARCHED, key, hit=False)
    assert (await services.privacy.footprint(key)).events == 2
    await services.record_event(EventKind.FAQ_SEARCHED, key, hit=False)
    await services.privacy.erase(key)
    await services.db.write_deferred()
    row = await services.db.fetchone("SELECT COUNT(*) FROM events WHERE user_key = ?", (key,))
    assert row is not None and row[0] == 0


async def test_the_purge_of_message_ids_reaches_every_key_and_keeps_two_days(
    services: Services,
) -> None:
    """One row per user and day, no index by day: the purge must still miss none."""
    today = date(2026, 11, 24)
    keys = ["", "0", "0f", "5a", "f", "ff", "zz", "~", "é", services.identity.user_key(7)]
    for n, key in enumerate(keys):
        for day, message_id in ((date(2026, 11, 22), 1), (date(2026, 11, 23), 2), (today, 3)):
            services.recent.note(key, message_id + 10 * n, day)
            services.recent.note(key, message_id + 10 * n + 5, day)
    assert await services.recent.purge(today) == 2 * len(keys), "ids counted, not rows"
    rows = await services.db.fetchall("SELECT day, COUNT(*) FROM recent_messages GROUP BY day")
    assert {str(day): count for day, count in rows} == {
        "2026-11-23": len(keys),
        "2026-11-24": len(keys),
    }
    assert await services.recent.ids(keys[3]) == [32, 33, 37, 38]
    index = await services.db.fetchone(
        "SELECT 1 FROM sqlite_master WHERE name = 'recent_messages_by_day'"
    )
    assert index is None, "each noted id would write it too"


async def test_message_ids_add_to_one_row_per_user_and_day_and_drop_exactly(
    services: Services,
) -> None:
    recent = services.recent
    day = date(2026, 11, 24)
    for message_id in (5, 6, 7):
        recent.note("k", message_id, day)
    await recent.flush()
    recent.note("k", 8, day)
    recent.note("k", 7, day)  # noted twice: one id all the same
    recent.note("other", 8, day)
    assert recent.pending == 3
    await recent.drop("k", [6, 8])
    assert recent.pending == 2, "the dropped id also leaves the waiting ones"
    assert await recent.ids("k") == [5, 7]
    rows = await services.db.fetchall("SELECT user_key, day FROM recent_messages")
    assert sorted(tuple(row) for row in rows) == [("k", "2026-11-24"), ("other", "2026-11-24")]
    await recent.drop("k", [5, 7])
    assert await recent.ids("k") == []
    row = await services.db.fetchone("SELECT COUNT(*) FROM recent_messages WHERE user_key = 'k'")
    assert row is not None and row[0] == 0, "an emptied day leaves no row"
    assert await recent.ids("other") == [8]
    await recent.drop("other")
    assert await recent.ids("other") == []


async def test_a_failing_batch_does_not_fail_the_update_that_filled_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = await Database.open(tmp_path / "db.sqlite3")
    for _ in range(DEFER_AT):
        await db.defer("INSERT INTO missing (x) VALUES (?)", (1,))  # must not raise
    assert f"{DEFER_AT} deferred rows were not written" in caplog.text
    assert db.deferred == 0
    await db.close()


async def test_with_several_instances_a_persons_events_are_written_at_once(
    services: Services,
) -> None:
    """/forget in another instance cannot reach this one's memory: keyed events go at once."""
    shared = EventsRepo(services.db, shared=True)
    waiting = services.db.deferred
    await shared.add("faq_searched", "somebody", date(2026, 11, 24), {"hit": True})
    assert services.db.deferred == waiting
    row = await services.db.fetchone("SELECT COUNT(*) FROM events WHERE user_key = 'somebody'")
    assert row is not None and row[0] == 1
    await shared.add("guide_step_viewed", None, date(2026, 11, 24), {"step": "routes"})
    assert services.db.deferred == waiting + 1, "a count of nobody may wait"


async def test_an_id_noted_twice_is_one_id_everywhere(services: Services) -> None:
    """A redelivered message's id may be noted again: /mydata, /wipe and the purge count it
    once."""
    recent, day = services.recent, date(2026, 11, 22)
    recent.note("k", 5, day)
    recent.note("k", 5, day)
    assert recent.pending == 1
    await recent.flush()
    recent.note("k", 5, day)  # again, in a later batch: the row's list holds it twice
    recent.note("k", 6, day)
    await recent.flush()
    assert await recent.ids("k") == [5, 6]
    assert (await services.privacy.footprint("k")).message_ids == 2
    assert await recent.purge(date(2026, 11, 24)) == 2
