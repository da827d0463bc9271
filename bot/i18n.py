"""Gettext catalogs (Babel) and the choice of a user's language.

The ``.po`` files are committed; the ``.mo`` files are build output, compiled by ``make`` and,
when stale or missing, again at start-up (aiogram's I18n refuses a ``.po`` without its ``.mo``).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import PROJECT_ROOT
from bot.config import LOCALES, Locale

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"

#: How each language names itself, for the language keyboard.
LANGUAGE_NAMES: dict[Locale, str] = {"be": "Беларуская", "ru": "Русский", "en": "English"}


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> list[Path]:
    """Compile every ``.po`` whose ``.mo`` is missing or older; returns the files written."""
    written = []
    for po_path in sorted(locales_dir.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        written.append(mo_path)
    return written


def create_i18n(default_locale: Locale, locales_dir: Path = LOCALES_DIR) -> I18n:
    """Catalogs for every supported language, compiled first if needed."""
    compile_catalogs(locales_dir)
    i18n = I18n(path=locales_dir, default_locale=default_locale, domain=DOMAIN)
    missing = set(LOCALES) - set(i18n.available_locales)
    if missing:
        raise RuntimeError(f"translation catalogs missing for: {', '.join(sorted(missing))}")
    return i18n


def locale_from_telegram(language_code: str | None) -> Locale | None:
    """Telegram's optional UI language mapped to ours: be→be, ru/uk→ru, anything else→en."""
    if not language_code:
        return None
    primary = language_code.lower().split("-")[0]
    if primary == "be":
        return "be"
    if primary in ("ru", "uk"):
        return "ru"
    return "en"


def negotiate_locale(stored: str | None, language_code: str | None, default: Locale) -> Locale:
    """Stored preference first, then Telegram's language, then the configured default."""
    if stored in LOCALES:
        return stored
    return locale_from_telegram(language_code) or default


#: gettext keywords: ``_`` and ``__`` (lazy) with both the plain and the plural signature
#: (``-k __:1,2`` alone drops the plain strings), and ``gettext``/``ngettext``, the names under
#: which Jinja reports ``{% trans %}`` blocks.
EXTRACT_KEYWORDS = ("_:1,1t", "_:1,2", "__:1,1t", "__:1,2", "gettext", "ngettext:1,2")


def extract_messages(output: Path) -> None:
    """Write the message template (``messages.pot``) extracted from the code and templates."""
    args = ["pybabel", "-q", "extract", "-F", str(PROJECT_ROOT / "babel.cfg")]
    args += ["--no-default-keywords", "--sort-by-file", "--no-wrap", "--omit-header"]
    for keyword in EXTRACT_KEYWORDS:
        args += ["-k", keyword]
    # babel.cfg's patterns are relative to the input directory; hidden folders (.venv) are
    # skipped. Extracting from "." keeps the source references relative and machine-independent.
    args += ["-o", str(output.resolve()), "."]
    with contextlib.chdir(PROJECT_ROOT):
        CommandLineInterface().run(args)  # type: ignore[no-untyped-call]
