"""docs/PRIVACY.md keeps up with the schema and the settings; the docs name files that exist.

A table added by a migration without a line in PRIVACY.md, or a retention setting left out,
fails here: the organisers who read that page decide on it whether to trust the bot.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.app import Services
from bot.config import Settings
from bot.message_ids import FLUSH_EVERY, PURGE_EVERY
from flows.privacy.retention import LINK_WEEKS

DOCS = PROJECT_ROOT / "docs"
PRIVACY = DOCS / "PRIVACY.md"
THREAT_MODEL = DOCS / "THREAT_MODEL.md"
OPERATIONS = DOCS / "OPERATIONS.md"

#: Settings that decide how long anything is kept, with their documented defaults.
RETENTION_SETTINGS = {
    "SUPOLKA_RETENTION_CASES_DAYS": 90,
    "SUPOLKA_RETENTION_CIRCLES_DAYS": 180,
    "SUPOLKA_RETENTION_USERS_DAYS": 365,
    "SUPOLKA_RETENTION_ACCESS_LOG_DAYS": 365,
    "SUPOLKA_THROTTLE_PER_MINUTE": 20,
}

#: Tables that are SQLite's own or the migration runner's, not data about anyone.
NOT_DATA = {"schema_version"}

_BACKTICKED = re.compile(r"`([^`\n]+)`")
#: A path into the code, as the docs cite it: `bot/identity.py`, `flows/privacy/`.
_CODE_PATH = re.compile(r"^(?:bot|flows|tests|data|deploy|docs)/[\w./-]*$")


def _backticked(path: Path) -> set[str]:
    return set(_BACKTICKED.findall(path.read_text(encoding="utf-8")))


async def test_every_table_is_named_in_privacy_md(services: Services) -> None:
    rows = await services.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    tables = {str(row[0]) for row in rows}
    tables = {name for name in tables if not name.startswith("sqlite_")} - NOT_DATA
    assert {"users", "events", "recent_messages", "handled_updates"} <= tables  # schema read
    missing = sorted(tables - _backticked(PRIVACY))
    assert not missing, f"docs/PRIVACY.md does not describe these tables: {missing}"


def test_every_retention_setting_is_in_privacy_md() -> None:
    text = PRIVACY.read_text(encoding="utf-8")
    missing = [name for name in RETENTION_SETTINGS if name not in text]
    assert not missing, f"docs/PRIVACY.md does not mention: {missing}"


@pytest.mark.parametrize("name", sorted(RETENTION_SETTINGS))
def test_documented_defaults_are_the_real_ones(name: str) -> None:
    """The retention table's default column matches bot/config.py, once the setting exists."""
    field = Settings.model_fields.get(name.removeprefix("SUPOLKA_").lower())
    if field is None:
        pytest.skip(f"{name} is not a setting in bot/config.py yet")
    assert field.default == RETENTION_SETTINGS[name], f"{name}: the docs say another default"
    rows = [
        line
        for line in PRIVACY.read_text(encoding="utf-8").splitlines()
        if line.startswith("|") and f"`{name}`" in line
    ]
    assert rows, f"docs/PRIVACY.md has no table row for {name}"
    cells = [cell.strip() for cell in rows[-1].strip("|").split("|")]
    assert str(field.default) in cells, f"{name}: the retention table gives another default"


@pytest.mark.parametrize("doc", [PRIVACY, THREAT_MODEL, OPERATIONS], ids=lambda path: path.name)
def test_files_cited_by_the_docs_exist(doc: Path) -> None:
    cited = sorted(name for name in _backticked(doc) if _CODE_PATH.match(name))
    assert cited, f"{doc.name} cites no file (the pattern is wrong?)"
    # The database and key file are made at run time: the settings name them, a clone has none.
    runtime = {Settings.model_fields[f].default for f in ("database_path", "key_file")}
    runtime_names = {str(path.relative_to(PROJECT_ROOT)) for path in runtime}
    missing = [
        name for name in cited if name not in runtime_names and not (PROJECT_ROOT / name).exists()
    ]
    assert not missing, f"{doc.name} cites files that do not exist: {missing}"


def test_documented_timings_are_the_real_ones() -> None:
    """The fixed periods the docs promise: events unlinked after 13 weeks, /wipe's ids written
    every 5 seconds and purged every hour."""
    assert LINK_WEEKS == 13, "the docs say events are unlinked after 13 weeks"
    assert FLUSH_EVERY == 5.0, "the docs say waiting message ids are written every 5 seconds"
    assert PURGE_EVERY == 3600.0, "the docs say old message ids are purged every hour"
    privacy = PRIVACY.read_text(encoding="utf-8")
    for phrase in ("13 weeks", "every 5 seconds", "Every hour"):
        assert phrase in privacy, f"docs/PRIVACY.md no longer says {phrase!r}"
    assert "13 weeks" in THREAT_MODEL.read_text(encoding="utf-8")


def test_the_operators_guide_covers_every_command_and_setting() -> None:
    """docs/OPERATIONS.md is the organiser's only manual: each command of `python -m bot` that
    an operator runs, and each setting of `.env.example`, must be in it."""
    guide = OPERATIONS.read_text(encoding="utf-8")
    for command in ("run", "webhook", "backup", "restore", "check", "rotate-key"):
        assert f"python -m bot {command}" in guide, f"OPERATIONS.md never shows `{command}`"
    assert "/chatid" in guide and "/healthz" in guide
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    settings = re.findall(r"^(SUPOLKA_[A-Z_]+)=", example, flags=re.MULTILINE)
    assert settings, "no SUPOLKA_ setting found in .env.example (the pattern is wrong?)"
    missing = [name for name in settings if name not in guide]
    assert not missing, f"docs/OPERATIONS.md does not mention: {missing}"
