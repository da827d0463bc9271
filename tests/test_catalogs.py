"""Every message is translated in ru, be and en, and messages.pot is current with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.config import LOCALES
from bot.i18n import LOCALES_DIR, compile_catalogs, extract_messages

PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%\([a-z_]+\)[sd]|/[a-z_]+")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    catalog = _read(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
    expected_forms = catalog.num_plurals
    problems = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.pluralizable and len(strings) != expected_forms:
            problems.append(f"{len(strings)} plural forms, need {expected_forms}: {message.id!r}")
        if not all(strings):
            problems.append(f"untranslated: {message.id!r}")
        source = message.id if isinstance(message.id, str) else message.id[0]
        for string in strings:
            translated = str(string or "")
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(translated)):
                problems.append(f"placeholders differ: {message.id!r}")
    assert problems == []


def test_belarusian_and_russian_have_three_plural_forms() -> None:
    for locale in ("be", "ru"):
        catalog = _read(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
        assert catalog.num_plurals == 3


def test_catalogs_hold_exactly_the_template_messages() -> None:
    template = _ids(_read(LOCALES_DIR / "messages.pot"))
    for locale in LOCALES:
        catalog = _read(LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po", locale)
        assert _ids(catalog) == template, f"run `make messages` and translate ({locale})"


def test_the_template_is_current_with_the_code(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    extract_messages(fresh)
    committed = _ids(_read(LOCALES_DIR / "messages.pot"))
    extracted = _ids(_read(fresh))
    assert extracted, "extraction found no messages at all"
    assert extracted - committed == set(), "new messages: run `make messages` and translate"
    assert committed - extracted == set(), "stale messages: run `make messages`"


def test_catalogs_compile(tmp_path: Path) -> None:
    target = tmp_path / "locales"
    for locale in LOCALES:
        (target / locale / "LC_MESSAGES").mkdir(parents=True)
        source = LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"
        (target / locale / "LC_MESSAGES" / "messages.po").write_bytes(source.read_bytes())
    written = compile_catalogs(target)
    assert len(written) == len(LOCALES)
    assert compile_catalogs(target) == [], "current catalogs are not compiled again"
