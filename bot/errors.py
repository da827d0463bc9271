"""The one error handler: a polite apology to the user, a log line without personal data."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.types import User as TelegramUser
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.config import Settings
from bot.db.users import User
from bot.i18n import negotiate_locale
from bot.logs import safe_traceback

log = logging.getLogger(__name__)


def create_error_router() -> Router:
    """A router whose only job is to catch what every other handler let through."""
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router


async def on_error(
    event: ErrorEvent,
    bot: Bot,
    i18n: I18n,
    settings: Settings,
    user: User | None = None,
    event_from_user: TelegramUser | None = None,
) -> bool:
    """Apologise in the user's language; log the exception's class and frames, nothing else."""
    update = event.update
    log.error("update of type %s failed: %s", update.event_type, safe_traceback(event.exception))
    # The error has unwound the locale middleware's context: choose the language again.
    locale = negotiate_locale(
        user.locale if user else None,
        event_from_user.language_code if event_from_user else None,
        settings.default_locale,
    )
    with i18n.context(), i18n.use_locale(locale):
        apology = _("Sorry, something went wrong on our side. Please try again, or send /start.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(apology, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, apology)
    except TelegramAPIError as send_error:
        log.warning("could not apologise: %s", type(send_error).__name__)
    return True
