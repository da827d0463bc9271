"""Which pack a user reads, and formatting shared by the guide's screens."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from bot.content.guide import Pack
from bot.db.guide import GuideRepo


async def current_pack(user_key: str, guide: GuideRepo, packs: dict[str, Pack]) -> Pack:
    """The pack the user chose, if still enabled, else the default (the first enabled)."""
    chosen = await guide.chosen_pack(user_key)
    if chosen in packs:
        return packs[chosen]
    return next(iter(packs.values()))


def long_date(value: date, locale: str) -> str:
    """1 November 2026 / 1 ноября 2026 г. / 1 лістапада 2026 г."""
    return format_date(value, format="long", locale=locale)
