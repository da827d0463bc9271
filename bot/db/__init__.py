"""The SQLite database: one connection on the event loop (and a reader for long reads),
numbered migrations, explicit transactions."""

from bot.db.database import Database, Transaction
from bot.db.migrations import MIGRATIONS_DIR, apply_migrations, current_version, latest_version

__all__ = [
    "MIGRATIONS_DIR",
    "Database",
    "Transaction",
    "apply_migrations",
    "current_version",
    "latest_version",
]
