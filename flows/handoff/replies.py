"""Canned replies (``data/replies/<locale>.yaml``): name → text, in every language."""

from __future__ import annotations

from pathlib import Path

import yaml  # type: ignore[import-untyped]

from bot import PROJECT_ROOT
from bot.config import LOCALES
from bot.content import ContentError
from bot.content.telegram_html import html_problems

REPLIES_DIR = PROJECT_ROOT / "data" / "replies"


def load_replies(root: Path = REPLIES_DIR) -> dict[str, dict[str, str]]:
    """locale → name → text; every locale has the same names."""
    replies: dict[str, dict[str, str]] = {}
    for locale in LOCALES:
        path = root / f"{locale}.yaml"
        name = f"data/replies/{locale}.yaml"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContentError(f"{name}: file is missing") from None
        except yaml.YAMLError as error:
            raise ContentError(f"{name}: not valid YAML: {error}") from None
        if not isinstance(data, dict) or not data:
            raise ContentError(f"{name}: must map reply names to texts")
        for key, text in data.items():
            if not isinstance(key, str) or not isinstance(text, str) or not text.strip():
                raise ContentError(f"{name}: reply {key!r} must be a non-empty text")
            problems = html_problems(text)
            if problems:
                raise ContentError(f"{name}: reply {key!r}: {'; '.join(problems)}")
        replies[locale] = {str(k): str(v).strip() for k, v in data.items()}
    first = set(next(iter(replies.values())))
    for code, texts in replies.items():
        if set(texts) != first:
            raise ContentError(f"data/replies/{code}.yaml: reply names differ from the others")
    return replies
