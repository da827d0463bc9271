"""The operator's commands: backup during writes, restore, rotate-key and check.

Each runs on real files: a database the production services opened and wrote, a key file,
the locks a running bot holds.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.__main__ import main
from bot.app import Services
from bot.config import Settings
from bot.identity import Identity, KeyFileError, read_key_file
from bot.ops import rotate_key as rotation_module
from bot.ops.backup import BackupError, backup, describe, key_check_of, restore
from bot.ops.check import check
from bot.ops.lock import DatabaseInUse, bot_running
from bot.ops.rotate_key import RotationError, rotate_key
from flows.handoff.callbacks import CaseAction, CaseCB
from flows.match.callbacks import CircleAction, CircleCB
from tests.conftest import ChatHarness, free_port, make_settings, unhurried_harness
from tests.conftest import SettableClock as Clock
from tests.test_privacy_flow import SECOND, THIRD, WORKER, _rows_holding, walk_every_flow

GROUP = -100_777_000
ADMIN = 900_000_001
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, volunteers_chat_id=GROUP, admin_ids=[ADMIN], default_locale="en"
    )


async def _harness(settings: Settings) -> ChatHarness:
    clock = Clock(NOW)
    return unhurried_harness(await Services.open(settings, clock=clock), clock)


@pytest.fixture
async def chat(settings: Settings) -> AsyncIterator[ChatHarness]:
    harness = await _harness(settings)
    yield harness
    await harness.services.close()


async def _count(services: Services, table: str) -> int:
    row = await services.db.fetchone(f"SELECT COUNT(*) FROM {table}")
    assert row is not None
    return int(row[0])


# --- backup and restore ---------------------------------------------------------------------


async def test_a_backup_during_writes_restores_to_a_consistent_database(
    chat: ChatHarness, settings: Settings, tmp_path: Path
) -> None:
    """Writes go on while the backup is taken; the copy holds a whole prefix of them, passes
    the integrity check, and a restore brings exactly that back."""
    services = chat.services
    for user in range(20):
        await chat.feed(chat.user(700_000_000 + user).text("/start"))
    written = 0
    wanted = 50

    async def write() -> None:
        nonlocal written
        while written < wanted:
            # Two rows in one transaction: a copy that splits them would be inconsistent.
            async with services.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO events (kind, occurred_on) VALUES ('bench_a', '2026-11-23')"
                )
                await tx.execute(
                    "INSERT INTO events (kind, occurred_on) VALUES ('bench_b', '2026-11-23')"
                )
            written += 1
            await asyncio.sleep(0)

    await write()  # 50 before the backup
    wanted = 10**9
    writer = asyncio.create_task(write())  # and on, all through it
    target = tmp_path / "backups" / "nightly.sqlite3"
    snapshot = await asyncio.to_thread(backup, settings.database_path, target)
    after_backup = written
    wanted = written + 50  # and 50 after it, which the restore must undo
    await writer

    assert snapshot.users == 20 and snapshot.schema_version >= 8
    assert os.stat(target).st_mode & 0o077 == 0
    assert not target.with_name(target.name + "-wal").exists()
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        pairs = dict(
            copy.execute(
                "SELECT kind, COUNT(*) FROM events WHERE kind LIKE 'bench_%' GROUP BY kind"
            ).fetchall()
        )
    finally:
        copy.close()
    assert pairs["bench_a"] == pairs["bench_b"], "a transaction was split by the backup"
    assert 50 <= pairs["bench_a"] <= after_backup
    assert await _count(services, "events") > sum(pairs.values())
    await services.close()

    restored, replaced = restore(settings.database_path, target, services.identity)
    assert restored.users == 20
    assert replaced is not None and replaced.exists()
    assert describe(replaced).users == 20  # the replaced database is kept whole
    reopened = await Services.open(settings)
    try:
        rows = await reopened.db.fetchall(
            "SELECT kind, COUNT(*) FROM events WHERE kind LIKE 'bench_%' GROUP BY kind"
        )
        assert {str(kind): int(n) for kind, n in rows} == pairs
        restored_user = await reopened.users.get(reopened.identity.user_key(700_000_003))
        assert restored_user is not None
    finally:
        await reopened.close()


async def test_restore_refuses_while_the_bot_runs(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "copy.sqlite3"
    backup(settings.database_path, target)
    with bot_running(settings.database_path), pytest.raises(DatabaseInUse, match="stop it"):
        restore(settings.database_path, target, services.identity)
    # Two bots (webhook instances) may share the database: their locks are shared.
    with bot_running(settings.database_path), bot_running(settings.database_path):
        pass


async def test_restore_refuses_a_backup_made_under_another_key(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "copy.sqlite3"
    backup(settings.database_path, target)
    with pytest.raises(BackupError, match="another secret key"):
        restore(settings.database_path, target, Identity(b"x" * 32))


async def test_backup_and_restore_refuse_what_they_cannot_use(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    identity = Identity(b"s" * 32)
    with pytest.raises(BackupError, match="not a Supolka database"):
        restore(settings.database_path, junk, identity)
    with pytest.raises(BackupError, match="no file"):
        restore(settings.database_path, tmp_path / "missing.sqlite3", identity)
    with pytest.raises(BackupError, match="exists already"):
        backup(settings.database_path, junk)
    with pytest.raises(BackupError, match="no database"):
        backup(tmp_path / "nowhere.sqlite3", tmp_path / "new.sqlite3")


async def test_restore_refuses_a_backup_from_newer_code(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "copy.sqlite3"
    backup(settings.database_path, target)
    connection = sqlite3.connect(target)
    connection.execute("INSERT INTO schema_version VALUES (999, '2030-01-01')")
    connection.commit()
    connection.close()
    with pytest.raises(BackupError, match="newer than this code"):
        restore(settings.database_path, target, Identity(read_key_file(settings.key_file)))


async def test_backup_and_restore_from_the_command_line(
    services: Services, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["SUPOLKA_DATABASE_PATH"] = str(settings.database_path)
    os.environ["SUPOLKA_KEY_FILE"] = str(settings.key_file)
    target = tmp_path / "cli.sqlite3"
    assert main(["backup", str(target)]) == 0
    assert "The key is not in it" in capsys.readouterr().out
    with bot_running(settings.database_path):
        assert main(["restore", str(target)]) == 2
    assert "Cannot restore" in capsys.readouterr().err
    await services.close()
    assert main(["restore", str(target)]) == 0
    out = capsys.readouterr().out
    assert "restored" in out and ".replaced-" in out


async def test_restore_sets_aside_a_wal_left_without_its_database(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    """The operator moved a broken database away by hand, its -wal stayed: the restored file
    must not be read with those pages."""
    target = tmp_path / "copy.sqlite3"
    backup(settings.database_path, target)
    await services.close()
    wal = settings.database_path.with_name(settings.database_path.name + "-wal")
    connection = sqlite3.connect(settings.database_path)
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    connection.execute("INSERT INTO events (kind, occurred_on) VALUES ('stray', '2026-11-23')")
    connection.commit()
    stray = wal.read_bytes()  # frames not yet in the main file
    connection.close()
    os.rename(settings.database_path, tmp_path / "broken.sqlite3")
    wal.write_bytes(stray)  # left behind, as after a crash and a move by hand

    identity = Identity(read_key_file(settings.key_file))
    restored, replaced = restore(settings.database_path, target, identity)
    assert replaced is not None and not wal.exists()
    reopened = await Services.open(settings)
    try:
        assert await _count(reopened, "users") == restored.users
        row = await reopened.db.fetchone("SELECT COUNT(*) FROM events WHERE kind = 'stray'")
        assert row is not None and row[0] == 0
    finally:
        await reopened.close()


async def test_restore_replaces_a_damaged_database(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    """The point of a restore: the database will not open. The damaged file is kept aside."""
    target = tmp_path / "copy.sqlite3"
    backup(settings.database_path, target)
    await services.close()
    with settings.database_path.open("r+b") as damaged:
        damaged.write(b"\0" * 100)  # the header is gone
    restored, replaced = restore(
        settings.database_path, target, Identity(read_key_file(settings.key_file))
    )
    assert replaced is not None and replaced.read_bytes()[:100] == b"\0" * 100
    assert not settings.database_path.with_name(
        settings.database_path.name + ".restoring"
    ).exists()
    assert describe(settings.database_path).users == restored.users


# --- rotate-key -----------------------------------------------------------------------------


async def _users_and_counts(services: Services) -> tuple[dict[int, str], dict[str, int]]:
    users = {
        number: services.identity.user_key(number) for number in (WORKER, SECOND, THIRD, ADMIN)
    }
    await services.db.write_deferred()
    rows = await services.db.fetchall("SELECT kind, COUNT(*) FROM events GROUP BY kind")
    return users, {str(kind): int(n) for kind, n in rows}


async def test_rotate_key_keeps_every_user_reachable_and_their_data(
    chat: ChatHarness, settings: Settings
) -> None:
    worker = chat.user(WORKER, language_code="en")
    await walk_every_flow(chat, worker)
    volunteer = chat.user(ADMIN, language_code="en")
    await chat.feed(volunteer.text("/start"))
    old_users, old_counts = await _users_and_counts(chat.services)
    old_secret = read_key_file(settings.key_file)
    await chat.services.close()

    rotation = rotate_key(settings)

    assert rotation.users == 4 and not rotation.resumed
    new_secret = read_key_file(settings.key_file)
    assert new_secret != old_secret
    assert os.stat(settings.key_file).st_mode & 0o077 == 0
    assert not settings.key_file.with_name(settings.key_file.name + ".new").exists()
    chat = await _harness(settings)
    services = chat.services
    try:
        new_users, new_counts = await _users_and_counts(services)
        assert new_counts == old_counts  # every event kept, under new keys
        for number, old_key in old_users.items():
            assert await _rows_holding(services, old_key) == [], "an old key is left"
            user = await services.users.get(new_users[number])
            assert user is not None
            assert services.identity.open_chat(user.chat_ref, new_users[number]) == number
        # Their data, read through the flows: the worker's circle, case and checklist.
        [screen] = await chat.feed(worker.text("/mydata"))
        assert "Naftan" in screen.text and "Member 3 in the circle" in screen.text
        assert "Case #1: waiting for a volunteer." in screen.text
        assert "1 of" in screen.text and "steps ticked" in screen.text
        # Reachable: a message in the circle reaches the other members' chats (the worker's
        # own messages go to their open case, so the second member writes).
        second = chat.user(SECOND, language_code="en")
        await chat.feed(second.callback(CircleCB(action=CircleAction.RELAY_ON).pack()))
        calls = await chat.feed(second.text("still here"))
        reached = {int(getattr(call, "chat_id", 0)) for call in calls}
        assert {WORKER, THIRD} <= reached
        # And the case: a volunteer takes it, and their reply in its topic reaches the worker.
        case = await services.cases.active_for(new_users[WORKER])
        assert case is not None and case.thread_id is not None
        vera = chat.user(ADMIN, language_code="en")
        take = CaseCB(action=CaseAction.TAKE, case=case.id).pack()
        await chat.feed(vera.callback(take, message_id=2, chat_id=GROUP, chat_type="supergroup"))
        calls = await chat.feed(
            vera.text(
                "We can help.", chat_id=GROUP, chat_type="supergroup", thread_id=case.thread_id
            )
        )
        assert WORKER in {int(getattr(call, "chat_id", 0)) for call in calls}
    finally:
        await services.close()


VERA = 733_000_123  # a volunteer: in the group, never started the bot in a private chat


async def test_a_volunteer_who_never_started_the_bot_keeps_their_case(
    chat: ChatHarness, settings: Settings
) -> None:
    worker = chat.user(WORKER, language_code="en")
    await walk_every_flow(chat, worker)
    case = await chat.services.cases.active_for(chat.services.identity.user_key(WORKER))
    assert case is not None and case.thread_id is not None
    vera = chat.user(VERA, language_code="en")
    take = CaseCB(action=CaseAction.TAKE, case=case.id).pack()
    await chat.feed(vera.callback(take, message_id=2, chat_id=GROUP, chat_type="supergroup"))
    await chat.services.close()

    rotation = rotate_key(settings)
    assert rotation.requeued == 0
    chat = await _harness(settings)
    try:
        reply = vera.text("after", chat_id=GROUP, chat_type="supergroup", thread_id=case.thread_id)
        calls = await chat.feed(reply)
        assert WORKER in {int(getattr(call, "chat_id", 0)) for call in calls}
    finally:
        await chat.services.close()


async def test_a_case_held_by_an_unknown_volunteer_goes_back_to_the_queue(
    chat: ChatHarness, settings: Settings
) -> None:
    """A volunteer whose id was never noted (a database from before volunteers.ref) cannot be
    re-keyed: their case must not stay held by a key nobody has."""
    worker = chat.user(WORKER, language_code="en")
    await walk_every_flow(chat, worker)
    case = await chat.services.cases.active_for(chat.services.identity.user_key(WORKER))
    assert case is not None
    vera = chat.user(VERA, language_code="en")
    take = CaseCB(action=CaseAction.TAKE, case=case.id).pack()
    await chat.feed(vera.callback(take, message_id=2, chat_id=GROUP, chat_type="supergroup"))
    await chat.services.db.execute("UPDATE volunteers SET ref = NULL")
    await chat.services.close()

    assert rotate_key(settings).requeued == 1
    reopened = await Services.open(settings)
    try:
        again = await reopened.cases.active_for(reopened.identity.user_key(WORKER))
        assert again is not None and again.status == "open" and again.assignee is None
    finally:
        await reopened.close()


async def test_rotate_key_never_deletes_a_file_it_was_pointed_at(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.close()
    secret = read_key_file(settings.key_file).decode()
    in_environment = settings.model_copy(update={"secret_key": SecretStr(secret)})
    before = settings.database_path.read_bytes()
    with pytest.raises(RotationError, match="exists already"):
        rotate_key(in_environment, settings.database_path)  # a slip of the tab key
    assert settings.database_path.read_bytes() == before
    with pytest.raises(RotationError, match="only for a secret in SUPOLKA_SECRET_KEY"):
        rotate_key(settings, tmp_path / "elsewhere.key")


async def test_rotate_key_stops_before_anything_when_redis_does_not_answer(
    services: Services,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await services.close()
    before = key_check_of(settings.database_path)
    monkeypatch.setenv("SUPOLKA_DATABASE_PATH", str(settings.database_path))
    monkeypatch.setenv("SUPOLKA_KEY_FILE", str(settings.key_file))
    monkeypatch.setenv("SUPOLKA_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assert await asyncio.to_thread(main, ["rotate-key"]) == 2  # main() runs its own loop
    assert "Redis server does not answer; nothing was changed" in capsys.readouterr().err
    assert key_check_of(settings.database_path) == before
    assert not settings.key_file.with_name(settings.key_file.name + ".new").exists()


async def _opens(settings: Settings) -> None:
    """The bot starts on the database with the key file as it is now."""
    reopened = await Services.open(settings)
    await reopened.close()


async def test_an_interrupted_rotation_is_finished_by_running_it_again(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await services.close()

    def power_cut(pending: Path, key_file: Path) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(rotation_module, "_replace_key_file", power_cut)
    with pytest.raises(OSError, match="power cut"):
        rotate_key(settings)
    # The database is under the new key, the key file still holds the old one.
    with pytest.raises(KeyFileError, match="rotate-key"):
        await Services.open(settings)
    assert any("rotation was interrupted" in line for line in check(settings).problems)
    monkeypatch.undo()

    assert rotate_key(settings).resumed
    await _opens(settings)


async def test_a_rotation_cut_right_after_its_commit_keeps_the_new_key(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C lands between the COMMIT and the key file's replacement: the new secret, now the
    only one that opens the data, must survive for the next run to finish the job."""
    await services.close()
    real_rekey = rotation_module._rekey

    def commit_then_interrupt(*args: Any) -> tuple[int, int, int]:
        real_rekey(*args)
        raise KeyboardInterrupt

    monkeypatch.setattr(rotation_module, "_rekey", commit_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        rotate_key(settings)
    assert settings.key_file.with_name(settings.key_file.name + ".new").exists()
    monkeypatch.undo()
    assert rotate_key(settings).resumed
    await _opens(settings)


async def test_a_rotation_cut_before_its_transaction_starts_over(
    services: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await services.close()
    before = key_check_of(settings.database_path)

    def crash(*args: object) -> tuple[int, int]:
        raise OSError("killed")

    monkeypatch.setattr(rotation_module, "_rekey", crash)
    with pytest.raises(OSError, match="killed"):
        rotate_key(settings)
    assert key_check_of(settings.database_path) == before  # nothing changed
    monkeypatch.undo()
    assert not rotate_key(settings).resumed
    await _opens(settings)


async def test_rotate_key_with_the_secret_in_the_environment(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.close()
    secret = read_key_file(settings.key_file).decode()
    in_environment = settings.model_copy(update={"secret_key": SecretStr(secret)})
    with pytest.raises(RotationError, match="--new-key-file"):
        rotate_key(in_environment)
    new_file = tmp_path / "new.key"
    rotation = rotate_key(in_environment, new_file)
    assert rotation.secret_path == new_file
    assert read_key_file(settings.key_file).decode() == secret  # the old file is untouched
    moved = settings.model_copy(update={"key_file": new_file})
    reopened = await Services.open(moved)
    await reopened.close()


async def test_rotate_key_refuses_while_the_bot_runs(
    services: Services, settings: Settings
) -> None:
    with bot_running(settings.database_path), pytest.raises(DatabaseInUse):
        rotate_key(settings)


def test_rotate_key_refuses_a_database_never_started(tmp_path: Path) -> None:
    with pytest.raises(RotationError, match="nothing to re-key"):
        rotate_key(make_settings(tmp_path))


# --- check ----------------------------------------------------------------------------------


def _problems(settings: Settings) -> str:
    return "\n".join(check(settings).problems)


async def test_check_passes_a_good_installation(
    services: Services, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    report = check(settings)
    assert report.problems == []
    assert report.lines()[-1].startswith("OK: settings")
    assert "catalogs (ru, be, en)" in report.lines()[-1]


def test_check_reports_settings_that_do_not_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUPOLKA_WEBHOOK_PORT", "0")
    monkeypatch.setenv("SUPOLKA_REDIS_URL", "http://localhost")
    assert main(["check"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("problem: Invalid setting SUPOLKA_WEBHOOK_PORT") for line in lines)
    assert any("SUPOLKA_REDIS_URL" in line for line in lines)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"volunteers_chat_id": 12345}, "SUPOLKA_VOLUNTEERS_CHAT_ID: a group's id is negative"),
        ({"coordinators_chat_id": 5}, "SUPOLKA_COORDINATORS_CHAT_ID: a group's id is negative"),
        ({"admin_ids": [-5]}, "SUPOLKA_ADMIN_IDS: a person's Telegram id is a positive"),
        ({"webhook_url": "https://bot.example.org/t"}, "SUPOLKA_WEBHOOK_SECRET is needed"),
        ({"guide_packs": ["nowhere"]}, "guide packs:"),
        ({"redis_url": "redis://127.0.0.1:1/0"}, "Redis server does not answer"),
    ],
)
def test_check_finds_each_broken_setting(
    settings: Settings, overrides: dict[str, object], expected: str
) -> None:
    broken = make_settings(settings.database_path.parent, **overrides)
    assert expected in _problems(broken)


async def test_check_finds_key_and_database_problems(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    await services.close()
    settings.key_file.chmod(0o644)
    assert "readable by others" in _problems(settings)
    settings.key_file.chmod(0o600)

    other_key = tmp_path / "other.key"
    other_key.write_text("o" * 64)
    other_key.chmod(0o600)
    assert "the key does not match the database" in _problems(
        settings.model_copy(update={"key_file": other_key})
    )
    assert "key file" in _problems(settings.model_copy(update={"key_file": tmp_path / "lost"}))

    settings.database_path.chmod(0o644)
    assert "readable by others" in _problems(settings)
    settings.database_path.chmod(0o600)

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"garbage" * 1000)
    damaged.chmod(0o600)
    assert "not a Supolka database" in _problems(
        settings.model_copy(update={"database_path": damaged})
    )
    # The same without a key file (no traceback on the way), and a folder instead of a file.
    lost_key = {"database_path": damaged, "key_file": tmp_path / "lost"}
    assert "not a Supolka database" in _problems(settings.model_copy(update=lost_key))
    assert "is not a file" in _problems(settings.model_copy(update={"database_path": tmp_path}))


def test_check_finds_an_untranslated_catalog(settings: Settings, tmp_path: Path) -> None:
    from bot.i18n import LOCALES_DIR

    copy = tmp_path / "locales"
    for locale in ("ru", "be", "en"):
        folder = copy / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        text = (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").read_text("utf-8")
        if locale == "be":  # one message loses its translation
            text = text.replace('msgstr "Id гэтай тэмы: {thread_id}."', 'msgstr ""', 1)
        (folder / "messages.po").write_text(text, "utf-8")
    report = check(settings, locales_dir=copy)
    assert [line for line in report.problems if "catalog" in line] == [
        f"catalog {copy / 'be' / 'LC_MESSAGES' / 'messages.po'}: 1 message(s) untranslated "
        "or fuzzy"
    ]
