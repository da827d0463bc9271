"""``check``: everything the bot needs before it starts, each problem said in one line.

It reads and never writes: no key file is created, no migration applied, no catalog compiled.
Problems make the command fail; warnings are said but do not (a bot without admins runs, but
nobody can grant roles).
"""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from babel.messages.pofile import read_po
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.config import LOCALES, Settings, SettingsError, load_settings
from bot.content import ContentError
from bot.content.documents import load_documents
from bot.content.enterprises import load_directory
from bot.content.faq import load_faqs
from bot.content.guide import all_source_ids, load_packs
from bot.db.migrations import latest_version
from bot.i18n import DOMAIN, LOCALES_DIR
from bot.identity import Identity, KeyFileError, read_key_file
from bot.ops.backup import BackupError, describe, key_check_of

#: How long the Redis server may take to answer a PING.
REDIS_TIMEOUT = 3.0


@dataclass
class Report:
    """What ``check`` found: problems fail it, warnings do not, ``passed`` names what is fine."""

    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        found = [f"problem: {line}" for line in self.problems]
        found += [f"warning: {line}" for line in self.warnings]
        if not self.problems:
            found.append("OK: " + "; ".join(self.passed))
        return found


def check(settings: Settings | None = None, locales_dir: Path = LOCALES_DIR) -> Report:
    """Run every check; settings that do not load are the only problem reported then."""
    report = Report()
    if settings is None:
        try:
            settings = load_settings()
        except SettingsError as error:
            report.problems.extend(str(error).splitlines())
            return report
    report.passed.append("settings")
    _check_roles_and_chats(settings, report)
    _check_webhook(settings, report)
    identity = _check_key(settings, report)
    _check_database(settings, identity, report)
    _check_content(settings, report)
    _check_catalogs(locales_dir, report)
    if settings.redis_url is not None:
        _check_redis(settings.redis_url.get_secret_value(), report)
    return report


def _check_roles_and_chats(settings: Settings, report: Report) -> None:
    if not settings.admin_ids:
        report.warnings.append("SUPOLKA_ADMIN_IDS is empty: nobody can grant roles or use /chatid")
    if any(admin <= 0 for admin in settings.admin_ids):
        report.problems.append(
            "SUPOLKA_ADMIN_IDS: a person's Telegram id is a positive number "
            "(send /chatid to the bot in a private chat to learn yours)"
        )
    for name in ("volunteers_chat_id", "coordinators_chat_id"):
        value = getattr(settings, name)
        if value is None:
            report.warnings.append(f"SUPOLKA_{name.upper()} is not set")
        elif value >= 0:
            report.problems.append(
                f"SUPOLKA_{name.upper()}: a group's id is negative, like -1001234567890 "
                "(send /chatid in the group to learn it)"
            )


def _check_webhook(settings: Settings, report: Report) -> None:
    if settings.webhook_url is None:
        return
    if settings.webhook_secret is None:
        report.problems.append("SUPOLKA_WEBHOOK_SECRET is needed with SUPOLKA_WEBHOOK_URL")
    if settings.bot_token is None:
        report.problems.append("SUPOLKA_BOT_TOKEN is needed with SUPOLKA_WEBHOOK_URL")
    if not report.problems:
        report.passed.append(f"webhook at {settings.webhook_path}")


def _check_key(settings: Settings, report: Report) -> Identity | None:
    if settings.secret_key is not None:
        report.passed.append("key (SUPOLKA_SECRET_KEY)")
        return Identity(settings.secret_key.get_secret_value().encode())
    path = settings.key_file
    if not path.exists():
        if _fingerprint(settings.database_path):
            report.problems.append(
                f"key file {path} is missing, but the database was made under a key: "
                "restore the key file from where you keep it"
            )
        else:
            report.passed.append(f"key file (created on the first start at {path})")
        return None
    try:
        identity = Identity(read_key_file(path))
    except KeyFileError as error:
        report.problems.append(str(error))
        return None
    report.passed.append("key file")
    return identity


def _check_database(settings: Settings, identity: Identity | None, report: Report) -> None:
    path = settings.database_path
    if not path.exists():
        report.passed.append(f"database (created on the first start at {path})")
        return
    if not path.is_file():
        report.problems.append(f"database {path} is not a file: SUPOLKA_DATABASE_PATH names one")
        return
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        report.problems.append(f"database {path} is readable by others: run chmod 600 {path}")
    try:
        snapshot = describe(path)
    except BackupError as error:
        report.problems.append(str(error))
        return
    if snapshot.schema_version > latest_version():
        report.problems.append(
            f"database {path} is at schema version {snapshot.schema_version}, newer than this "
            f"code ({latest_version()}): run the newer version of the bot"
        )
        return
    fingerprint = _fingerprint(path)
    if identity is not None and fingerprint not in (None, identity.key_check()):
        pending = settings.key_file.with_name(settings.key_file.name + ".new")
        hint = (
            "a key rotation was interrupted: run `python -m bot rotate-key` again"
            if pending.exists()
            else "restore the key this database was made with (or, if a key rotation was "
            "interrupted, run `python -m bot rotate-key` again, with the same --new-key-file)"
        )
        report.problems.append(f"the key does not match the database {path}: {hint}")
        return
    pending_migrations = latest_version() - snapshot.schema_version
    note = f", {pending_migrations} migration(s) to apply on start" if pending_migrations else ""
    report.passed.append(
        f"database (schema {snapshot.schema_version} of {latest_version()}{note}, "
        f"{snapshot.users} users)"
    )


def _fingerprint(path: Path) -> str | None:
    """The database's key fingerprint; None if there is none or the file cannot be read (the
    database check says why)."""
    if not path.is_file():
        return None
    try:
        return key_check_of(path)
    except (sqlite3.Error, OSError):
        return None


def _check_content(settings: Settings, report: Report) -> None:
    loaders: dict[str, Callable[[], object]] = {
        "guide packs": lambda: load_packs(settings.guide_packs),
        "documents": load_documents,
        "FAQ": lambda: load_faqs(known_sources=all_source_ids()),
        "enterprise directory": load_directory,
    }
    for name, load in loaders.items():
        try:
            load()
        except ContentError as error:
            report.problems.append(f"{name}: {error}")
        except OSError as error:
            report.problems.append(f"{name}: cannot read {error.filename or error}")
        else:
            report.passed.append(name)


def _check_catalogs(locales_dir: Path, report: Report) -> None:
    fine = []
    for locale in LOCALES:
        po_path = locales_dir / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.is_file():
            report.problems.append(f"catalog {po_path} is missing")
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale)
        untranslated = [
            message
            for message in catalog
            if message.id
            and (
                message.fuzzy
                or not all(
                    message.string if isinstance(message.string, tuple) else [message.string]
                )
            )
        ]
        if untranslated:
            report.problems.append(
                f"catalog {po_path}: {len(untranslated)} message(s) untranslated or fuzzy"
            )
            continue
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime < po_path.stat().st_mtime:
            report.warnings.append(
                f"{mo_path} is older than its .po: compiled again on start, or run "
                "`python -m bot compile-catalogs`"
            )
        fine.append(locale)
    if fine:
        report.passed.append(f"catalogs ({', '.join(fine)})")


def _check_redis(url: str, report: Report) -> None:
    async def ping() -> bool:
        client = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT)
        try:
            # redis-py types every command as "awaitable or not", for its sync and async clients.
            return bool(
                await asyncio.wait_for(cast("Awaitable[bool]", client.ping()), REDIS_TIMEOUT)
            )
        finally:
            await client.aclose()

    try:
        answered = asyncio.run(ping())
    except (RedisError, OSError, TimeoutError):
        answered = False
    if answered:
        report.passed.append("Redis")
    else:
        report.problems.append("SUPOLKA_REDIS_URL: the Redis server does not answer")
