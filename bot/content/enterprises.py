"""The enterprise directory, ``data/enterprises.csv``: names in three scripts, city, aliases."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT, matching
from bot.content import ContentError
from bot.matching import skeleton

DIRECTORY = PROJECT_ROOT / "data" / "enterprises.csv"
COLUMNS = ["id", "name_ru", "name_be", "name_latin", "city_ru", "city_be", "city_en", "aliases"]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class DirectoryEntry:
    slug: str
    name_ru: str
    name_be: str
    name_en: str
    city_ru: str
    city_be: str
    city_en: str
    aliases: tuple[str, ...]

    def all_names(self) -> tuple[str, ...]:
        return (self.name_ru, self.name_be, self.name_en, *self.aliases)


def directory_digest(entries: list[DirectoryEntry]) -> str:
    """The directory and the matching rules, as one value: unchanged, seeding is skipped."""
    rules = Path(matching.__file__).read_bytes()
    digest = hashlib.sha256(rules)
    for entry in entries:
        digest.update(repr(entry).encode())
    return digest.hexdigest()


def load_directory(path: Path = DIRECTORY) -> list[DirectoryEntry]:
    """Read and check the directory; an alias that two enterprises share is an error."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8", newline="")
    except FileNotFoundError:
        raise ContentError(f"data/{name}: file is missing") from None
    entries = []
    owners: dict[str, str] = {}
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != COLUMNS:
            raise ContentError(f"data/{name}: the header must be {','.join(COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            where = f"data/{name}: line {line}"
            slug = (row["id"] or "").strip()
            if not _SLUG.match(slug):
                raise ContentError(f"{where}: id {slug!r} must be a-z, 0-9 and -")
            if any(not (row[column] or "").strip() for column in COLUMNS[1:7]):
                raise ContentError(f"{where}: every name and city column must be filled")
            aliases = tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip())
            entry = DirectoryEntry(
                slug,
                row["name_ru"].strip(),
                row["name_be"].strip(),
                row["name_latin"].strip(),
                row["city_ru"].strip(),
                row["city_be"].strip(),
                row["city_en"].strip(),
                aliases,
            )
            for alias in entry.all_names():
                key = skeleton(alias)
                owner = owners.setdefault(key, slug)
                if owner != slug:
                    raise ContentError(
                        f"{where}: alias {alias!r} of '{slug}' is also a name of '{owner}'"
                    )
            entries.append(entry)
    if len({e.slug for e in entries}) != len(entries):
        raise ContentError(f"data/{name}: ids must be unique")
    return entries
