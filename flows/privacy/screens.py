"""The privacy screen's text, shared by the main menu and /privacy."""

from __future__ import annotations

from bot.config import Settings
from bot.templating import Templates


def privacy_text(templates: Templates, settings: Settings) -> str:
    """What is stored, never stored, and for how long (the retention settings)."""
    return templates.render(
        "onboarding/privacy.html.j2",
        cases_days=settings.retention_cases_days,
        circles_days=settings.retention_circles_days,
        users_days=settings.retention_users_days,
    )
