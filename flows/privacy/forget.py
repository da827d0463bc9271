"""/forget: the person leaves every trace behind, in the order that lets others be told."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import BotCommandScopeChat
from aiogram.utils.i18n import gettext as _

from bot.db.privacy import PrivacyRepo
from bot.db.recent import RecentMessages
from bot.db.retention import RetentionRepo
from bot.drafts import DraftStore
from bot.events import EventKind, EventRecorder
from flows.handoff.desk import Desk
from flows.handoff.worker import end_case
from flows.match.circles import Circles
from flows.privacy.retention import erase_person

log = logging.getLogger(__name__)


async def forget_user(
    user_key: str,
    chat_id: int,
    *,
    bot: Bot,
    state: FSMContext,
    desk: Desk,
    circle_ops: Circles,
    privacy: PrivacyRepo,
    retention: RetentionRepo,
    recent: RecentMessages,
    drafts: DraftStore,
    record_event: EventRecorder,
) -> None:
    """Close their case and leave their circle (others are told), then erase every row."""
    case = await desk.cases.active_for(user_key)
    group = desk.settings.volunteers_chat_id
    if case is not None and group is not None:
        await end_case(case, desk, by="forget")
    member = await circle_ops.circles.membership(user_key)
    if member is not None:
        await circle_ops.leave(member)
    drafts.drop(user_key)
    await state.clear()
    # Their topics hold the messages copied from them: those go too, with one note.
    deleted, erased = await erase_person(user_key, bot, group, retention, recent, privacy)
    if deleted and group is not None:
        with (
            desk.i18n.use_locale(desk.settings.default_locale),
            contextlib.suppress(TelegramAPIError),
        ):
            await bot.send_message(group, _forgotten_cases_note(deleted))
    await record_event(EventKind.USER_FORGOTTEN, None)
    # The command list set for this chat after /language would keep the chosen language.
    with contextlib.suppress(TelegramAPIError):
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=chat_id))
    log.info("a user was forgotten: %d rows, %d events detached", erased.rows, erased.events)


def _forgotten_cases_note(case_ids: list[int]) -> str:
    numbers = ", ".join(f"#{number}" for number in case_ids)
    return _(
        "The worker of case {numbers} deleted their data from the bot: the case is deleted.",
        "The worker of cases {numbers} deleted their data from the bot: the cases are deleted.",
        len(case_ids),
    ).format(numbers=numbers)
