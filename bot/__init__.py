"""Supolka: infrastructure that knows no conversation (settings, storage, identity, i18n)."""

from pathlib import Path

#: The repository root: content (``data/``), catalogs (``locales/``) and flows live under it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
