"""``python -m bot [run|console|migrate|compile-catalogs]`` (also installed as ``supolka``).

``run`` long-polls the Bot API when ``SUPOLKA_BOT_TOKEN`` is set, and otherwise starts the
console simulator. Start-up problems end in one clear line, never a traceback.
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

from aiogram.exceptions import TelegramAPIError

from bot.app import Services, create_bot, create_dispatcher
from bot.config import LOCALES, Settings, SettingsError, load_settings
from bot.console import run_console
from bot.content import ContentError
from bot.db import Database, apply_migrations
from bot.i18n import LOCALES_DIR, compile_catalogs, extract_messages
from bot.identity import KeyFileError
from bot.logs import configure_logging
from bot.message_ids import run_flush
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
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser("compile-catalogs", help="compile locales/*/LC_MESSAGES/*.po")
    commands.add_parser("extract-messages", help="write locales/messages.pot from the code")
    return parser


async def poll(settings: Settings, handle_signals: bool = True) -> None:
    """Long-poll the Bot API at ``SUPOLKA_TELEGRAM_API_URL`` until stopped."""
    services = await Services.open(settings)
    bot = create_bot(services)
    dispatcher = create_dispatcher(services)
    # Some 200,000 objects exist by now (aiogram's and pydantic's classes, the content): moved
    # out of the collector's sight, a full collection takes tens of ms instead of ~160, and
    # every update in flight waits for it (bench/RESULTS.md, offered load).
    gc.freeze()
    # Reminders, the weekly report, retention and writing message ids run beside polling;
    # they end with it.
    background: list[asyncio.Task[None]] = []
    try:
        try:
            await publish_commands(bot, services.i18n, settings.default_locale)
        except TelegramAPIError as error:  # the command menu is a nicety; polling matters
            log.warning("could not publish the command list: %s", type(error).__name__)
        log.info("polling the Bot API at %s", settings.telegram_api_url)
        background.append(asyncio.create_task(run_reminders(lambda: make_desk(services, bot))))
        background.append(asyncio.create_task(run_retention(lambda: purge(services, bot))))
        background.append(
            asyncio.create_task(run_flush(services.recent, services.db, services.today))
        )
        background.append(
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
        await dispatcher.start_polling(
            bot,
            allowed_updates=dispatcher.resolve_used_update_types(),
            handle_signals=handle_signals,
        )
    finally:
        for task in background:
            task.cancel()
        # Let them finish unwinding (a report being sent gives its claim back) before the
        # session and the database they use are closed.
        await asyncio.gather(*background, return_exceptions=True)
        await bot.session.close()
        await services.close()


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
    try:
        settings = load_settings()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    polling = command == "run" and settings.bot_token is not None
    # The console is a chat transcript: only warnings may interrupt it.
    configure_logging(settings.log_level if polling else "WARNING")
    try:
        if command == "extract-messages":
            extract_messages(LOCALES_DIR / "messages.pot")
        elif command == "compile-catalogs":
            written = compile_catalogs()
            print(f"compiled {len(written)} catalog(s)")
        elif command == "migrate":
            asyncio.run(_migrate(settings))
        elif command == "console":
            asyncio.run(run_console(settings, args.user, args.lang, args.database))
        elif settings.bot_token is None:
            print("No SUPOLKA_BOT_TOKEN set: starting the console simulator instead of Telegram.")
            asyncio.run(run_console(settings, language_code=settings.default_locale))
        else:
            asyncio.run(poll(settings))
    except (KeyFileError, ContentError, RuntimeError, OSError, sqlite3.Error) as error:
        # One line, never a traceback: the message names the file or the setting.
        print(f"Cannot start: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
