"""``python -m bot COMMAND`` (also installed as ``supolka``); ``--help`` lists the commands.

``run`` long-polls the Bot API when ``SUPOLKA_BOT_TOKEN`` is set, and otherwise starts the
console simulator; ``webhook`` takes updates over HTTPS instead. ``backup``, ``restore``,
``check`` and ``rotate-key`` are the operator's (docs/OPERATIONS.md). Problems end in one
clear line, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sqlite3
import sys
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramAPIError
from redis.exceptions import RedisError

from bot.app import Services, create_bot, create_dispatcher
from bot.config import LOCALES, Settings, SettingsError, load_settings
from bot.console import run_console
from bot.content import ContentError
from bot.db import Database, apply_migrations
from bot.i18n import LOCALES_DIR, compile_catalogs, extract_messages
from bot.identity import Identity, KeyFileError, read_key_file
from bot.logs import configure_logging
from bot.message_ids import run_flush
from bot.ops.backup import BackupError, backup, restore
from bot.ops.check import check
from bot.ops.lock import DatabaseInUse, bot_running
from bot.ops.rotate_key import RotationError, rotate_key
from bot.redis_storage import drop_conversations, open_redis, ping
from bot.shared_state import open_shared_state
from bot.webhook import (
    DRAIN_SECONDS,
    UpdateReceiver,
    create_webhook_app,
    serve,
    stop_on_signals,
)
from flows.commands import publish_commands
from flows.handoff.reminders import run_reminders
from flows.handoff.router import make_desk
from flows.privacy.retention import purge, run_retention
from flows.stats.router import guide_step_order, run_reports, send_due_report

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="supolka", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="run the bot (the console simulator when no token is set)")
    console = commands.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument("--user", type=int, default=700_100_200, help="simulated user id")
    console.add_argument("--lang", choices=LOCALES, default=None, help="Telegram UI language")
    console.add_argument("--database", type=Path, default=None, help="database file")
    commands.add_parser("webhook", help="take updates from Telegram on SUPOLKA_WEBHOOK_URL")
    commands.add_parser("migrate", help="apply database migrations and exit")
    backup = commands.add_parser("backup", help="copy the database, also while the bot runs")
    backup.add_argument("path", type=Path, help="the new backup file")
    restore = commands.add_parser("restore", help="put a backup in place (the bot stopped)")
    restore.add_argument("path", type=Path, help="the backup file")
    commands.add_parser("check", help="check settings, key, database, content and catalogs")
    rotate = commands.add_parser("rotate-key", help="move everything to a new secret key")
    rotate.add_argument(
        "--new-key-file",
        type=Path,
        default=None,
        help="where to write the new secret when the current one is in SUPOLKA_SECRET_KEY",
    )
    commands.add_parser("compile-catalogs", help="compile locales/*/LC_MESSAGES/*.po")
    commands.add_parser("extract-messages", help="write locales/messages.pot from the code")
    return parser


def start_background(services: Services, bot: Bot) -> list[asyncio.Task[None]]:
    """Jobs that run beside the updates and end with them.

    Message ids noted in memory are written by every process. Reminders, retention and the
    weekly report run only where ``SUPOLKA_BACKGROUND_JOBS`` is true: in one instance of several.
    """
    settings = services.settings
    tasks = [asyncio.create_task(run_flush(services.recent, services.db, services.today))]
    if not settings.background_jobs:
        return tasks
    tasks.append(asyncio.create_task(run_reminders(lambda: make_desk(services, bot))))
    tasks.append(asyncio.create_task(run_retention(lambda: purge(services, bot))))
    tasks.append(
        asyncio.create_task(
            run_reports(
                lambda: send_due_report(
                    bot,
                    settings,
                    services.i18n,
                    services.events,
                    services.enterprises,
                    services.clock,
                    guide_step_order(services.packs),
                )
            )
        )
    )
    return tasks


async def stop_background(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    # Let them finish unwinding (a report being sent gives its claim back) before the
    # session and the database they use are closed.
    await asyncio.gather(*tasks, return_exceptions=True)


async def _publish_commands(bot: Bot, services: Services) -> None:
    try:
        await publish_commands(bot, services.i18n, services.settings.default_locale)
    except TelegramAPIError as error:  # the command menu is a nicety; updates matter
        log.warning("could not publish the command list: %s", type(error).__name__)


def _freeze_garbage() -> None:
    # Some 200,000 objects exist by now (aiogram's and pydantic's classes, the content): moved
    # out of the collector's sight, a full collection takes tens of ms instead of ~160, and
    # every update in flight waits for it (bench/RESULTS.md, offered load).
    gc.freeze()


async def poll(settings: Settings, handle_signals: bool = True) -> None:
    """Long-poll the Bot API at ``SUPOLKA_TELEGRAM_API_URL`` until stopped."""
    services = await Services.open(settings)
    shared = await open_shared_state(settings, services.identity)
    bot = create_bot(services)
    dispatcher = create_dispatcher(services, shared.isolation, shared.storage)
    _freeze_garbage()
    background: list[asyncio.Task[None]] = []
    try:
        await _publish_commands(bot, services)
        # A webhook left from webhook mode would make every getUpdates fail with a conflict.
        # Its pending updates stay queued for polling to take.
        await bot.delete_webhook(drop_pending_updates=False)
        log.info("polling the Bot API at %s", settings.telegram_api_url)
        background = start_background(services, bot)
        await dispatcher.start_polling(
            bot,
            allowed_updates=dispatcher.resolve_used_update_types(),
            handle_signals=handle_signals,
            close_bot_session=False,  # the updates still in flight reply through it
        )
        await _finish_in_flight(dispatcher)
    finally:
        await stop_background(background)
        await bot.session.close()
        await shared.close()
        await services.close()


async def _finish_in_flight(dispatcher: Dispatcher) -> None:
    """After polling stops, let the updates being handled finish (as webhook mode does): their
    offsets are confirmed already, so an update cut short now would be lost."""
    # aiogram keeps its update tasks here and does not wait for them when polling stops.
    in_flight = set(getattr(dispatcher, "_handle_update_tasks", ()))
    if not in_flight:
        return
    _, unfinished = await asyncio.wait(in_flight, timeout=DRAIN_SECONDS)
    if unfinished:
        log.warning("polling: %d update(s) still in flight at shutdown", len(unfinished))


async def serve_webhook(
    settings: Settings,
    session: BaseSession | None = None,
    token: str | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Take updates from Telegram on ``SUPOLKA_WEBHOOK_URL`` until SIGTERM, SIGINT or ``stop``."""
    if settings.webhook_url is None or settings.webhook_secret is None:
        raise RuntimeError("webhook mode needs SUPOLKA_WEBHOOK_URL and SUPOLKA_WEBHOOK_SECRET")
    services = await Services.open(settings)
    shared = await open_shared_state(settings, services.identity)
    bot = create_bot(services, session=session, token=token)
    dispatcher = create_dispatcher(services, shared.isolation, shared.storage)
    secret = settings.webhook_secret.get_secret_value()
    receiver = UpdateReceiver(dispatcher, bot, secret)
    app = create_webhook_app(receiver, settings.webhook_path, services.db, shared.health_checks)
    _freeze_garbage()
    background: list[asyncio.Task[None]] = []
    url = settings.webhook_url

    async def set_webhook() -> None:
        await bot.set_webhook(
            url, secret_token=secret, allowed_updates=dispatcher.resolve_used_update_types()
        )

    try:
        await _publish_commands(bot, services)
        background = start_background(services, bot)
        if stop is None:
            stop = asyncio.Event()
            stop_on_signals(stop)
        await serve(app, receiver, settings.webhook_host, settings.webhook_port, stop, set_webhook)
    finally:
        await stop_background(background)
        await bot.session.close()
        await shared.close()
        await services.close()
    log.info("webhook server stopped")


async def _migrate(settings: Settings) -> None:
    db = await Database.open(settings.database_path)
    try:
        applied = await apply_migrations(db)
    finally:
        await db.close()
    print(f"{settings.database_path}: applied {applied or 'nothing, already current'}")


def main(argv: list[str] | None = None) -> int:
    # Everything the bot creates (database, WAL, key, documents) is for its owner's eyes only.
    os.umask(0o077)
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "check":
        return _check()
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    serving = command == "webhook" or (command == "run" and settings.bot_token is not None)
    # The console is a chat transcript, and the maintenance commands print their own lines:
    # only warnings may interrupt them.
    configure_logging(settings.log_level if serving else "WARNING")
    try:
        _run(command, args, settings)
    except (
        KeyFileError,
        ContentError,
        RuntimeError,
        OSError,
        sqlite3.Error,
        DatabaseInUse,
        BackupError,
        RotationError,
        TelegramAPIError,  # a revoked token, say: Telegram's own words name the problem
        RedisError,
    ) as error:
        # One line, never a traceback: the message names the file or the setting.
        print(
            f"Cannot {'start' if command in ('run', 'webhook') else command}: {error}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _run(command: str, args: argparse.Namespace, settings: Settings) -> None:
    if command == "extract-messages":
        extract_messages(LOCALES_DIR / "messages.pot")
    elif command == "compile-catalogs":
        written = compile_catalogs()
        print(f"compiled {len(written)} catalog(s)")
    elif command == "migrate":
        asyncio.run(_migrate(settings))
    elif command == "backup":
        snapshot = backup(settings.database_path, args.path)
        print(
            f"backed up {snapshot.users} users (schema {snapshot.schema_version}, "
            f"{snapshot.size:,} bytes) to {snapshot.path}. The key is not in it: keep the key "
            "backed up on its own, apart from the database backups."
        )
    elif command == "restore":
        snapshot, replaced = restore(settings.database_path, args.path, _identity(settings))
        print(f"restored {snapshot.users} users from {args.path} to {settings.database_path}.")
        if replaced is not None:
            print(
                f"What it replaced is now {replaced} (with -wal/-shm if there were any): "
                "delete it once satisfied."
            )
    elif command == "rotate-key":
        _rotate(settings, args.new_key_file)
    elif command == "webhook":
        with bot_running(settings.database_path):
            asyncio.run(serve_webhook(settings))
    elif command == "console":
        asyncio.run(run_console(settings, args.user, args.lang, args.database))
    elif settings.bot_token is None:
        print("No SUPOLKA_BOT_TOKEN set: starting the console simulator instead of Telegram.")
        asyncio.run(run_console(settings, language_code=settings.default_locale))
    else:
        with bot_running(settings.database_path):
            asyncio.run(poll(settings))


def _check() -> int:
    report = check()
    for line in report.lines():
        print(line)
    return 1 if report.problems else 0


def _identity(settings: Settings) -> Identity:
    """The current secret's identity, without creating a key file that is not there."""
    if settings.secret_key is not None:
        return Identity(settings.secret_key.get_secret_value().encode())
    return Identity(read_key_file(settings.key_file))


def _rotate(settings: Settings, new_key_file: Path | None) -> None:
    def drop_redis_conversations() -> None:
        # Sealed under the old secret, they would wait out their TTL readable with it. Done
        # first, so that a Redis that does not answer stops the rotation before it begins.
        dropped = asyncio.run(_drop_redis_conversations(settings))
        print(f"dropped {dropped} conversation key(s) from Redis")

    before = drop_redis_conversations if settings.redis_url is not None else None
    rotation = rotate_key(settings, new_key_file, before)
    if rotation.resumed:
        print("finished a rotation that had been interrupted.")
    else:
        print(
            f"re-keyed {rotation.users} users and {rotation.other_keys} other keys; "
            "conversations in progress start again."
        )
    if rotation.requeued:
        print(
            f"{rotation.requeued} case(s) held by volunteers unknown to the bot went back to "
            "the queue: a volunteer takes each again."
        )
    if settings.secret_key is not None:
        print(
            f"The new secret is in {rotation.secret_path}: put it in SUPOLKA_SECRET_KEY (or "
            f"empty SUPOLKA_SECRET_KEY and set SUPOLKA_KEY_FILE={rotation.secret_path}) "
            "before the next start."
        )
    else:
        print(f"The new key is in {rotation.secret_path}; the old one is gone from there.")
    print("Backups made before now need the old key: destroy them, or keep the old key with them.")


async def _drop_redis_conversations(settings: Settings) -> int:
    assert settings.redis_url is not None
    storage, _ = open_redis(settings.redis_url.get_secret_value(), _identity(settings))
    try:
        if not await ping(storage):
            raise RotationError(
                "SUPOLKA_REDIS_URL: the Redis server does not answer; nothing was changed"
            )
        return await drop_conversations(storage)
    finally:
        await storage.close()


if __name__ == "__main__":
    sys.exit(main())
