"""The volunteers' desk: case cards in the group, and messages copied both ways.

In a forum supergroup every case has its own topic; otherwise each case gets one card message,
and replies to the card (or to a relayed message) belong to the case. Copies are made with
``protect_content`` and carry nothing about who sent them.
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardMarkup, Message, ReplyParameters
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.config import Settings
from bot.content.guide import Pack
from bot.db.cases import Case, CasesRepo
from bot.db.enterprises import EnterprisesRepo
from bot.db.guide import GuideRepo
from bot.db.users import UsersRepo
from bot.events import EventRecorder
from bot.i18n import LANGUAGE_NAMES
from bot.identity import Identity
from bot.telegram import OutgoingLimiter
from flows.handoff.callbacks import CaseAction, CaseCB

log = logging.getLogger(__name__)


def language_name(locale: str) -> str:
    names: dict[str, str] = {str(code): name for code, name in LANGUAGE_NAMES.items()}
    return names.get(locale, locale)


def topic_label(topic: str) -> str:
    labels = {
        "legal": _("Legal question"),
        "safety": _("Safety"),
        "organising": _("Organising"),
        "other": _("Other"),
    }
    return labels.get(topic, topic)


@dataclass
class Desk:
    """Everything the hand-off needs, gathered once per update."""

    bot: Bot
    settings: Settings
    i18n: I18n
    identity: Identity
    users: UsersRepo
    cases: CasesRepo
    guide: GuideRepo
    packs: dict[str, Pack]
    enterprises: EnterprisesRepo
    limiter: OutgoingLimiter
    record_event: EventRecorder
    now: datetime

    @property
    def group(self) -> int:
        assert self.settings.volunteers_chat_id is not None
        return self.settings.volunteers_chat_id

    async def alias(self, volunteer_key: str | None) -> str:
        if volunteer_key is None:
            return _("a volunteer")
        return await self.cases.alias(volunteer_key) or _("Volunteer")

    async def worker_chat(self, case: Case) -> int | None:
        user = await self.users.get(case.user_key)
        if user is None or not user.is_active:
            return None
        return self.identity.open_chat(user.chat_ref, case.user_key)

    # -- the card --------------------------------------------------------------------------

    async def card_text(self, case: Case) -> str:
        """What volunteers see: number, language, topic, context; never who the worker is."""
        lines = [
            f"<b>{_('Case #{number}').format(number=case.id)}</b> · "
            f"{html.escape(topic_label(case.topic))}",
            _("Language: {language}").format(language=language_name(case.locale)),
            _("Earlier cases: {count}").format(
                count=await self.cases.count_for(case.user_key) - 1
            ),
        ]
        if case.enterprise_id is not None:
            # Named only to the volunteer who holds the case, on request (and logged).
            lines.append(_("Enterprise: shared with the volunteer who takes the case"))
        pack = next(iter(self.packs.values()))
        progress = await self.guide.get(case.user_key, pack.id)
        if progress is not None and progress.step:
            number = (pack.index(progress.step) or 0) + 1
            lines.append(
                _("Guide: step {number} of {total}").format(number=number, total=len(pack.steps))
            )
        if progress is not None and progress.checklist is not None:
            checklist = progress.checklist
            lines.append(
                _("Checklist: {done} of {total} done").format(
                    done=len(checklist.done), total=len(checklist.items)
                )
            )
        if case.status == "open":
            lines.append(_("Status: waiting for a volunteer"))
        elif case.status == "taken":
            lines.append(
                _("Status: taken by {alias}").format(
                    alias=html.escape(await self.alias(case.assignee))
                )
            )
        else:
            lines.append(_("Status: closed"))
        return "\n".join(lines)

    @staticmethod
    def card_kb(case: Case) -> InlineKeyboardMarkup | None:
        if case.status == "closed":
            return None
        builder = InlineKeyboardBuilder()
        if case.status == "open":
            builder.button(
                text=_("✋ Take"), callback_data=CaseCB(action=CaseAction.TAKE, case=case.id)
            )
        else:
            builder.button(
                text=_("↩️ Release"), callback_data=CaseCB(action=CaseAction.RELEASE, case=case.id)
            )
            if case.enterprise_id is not None:
                builder.button(
                    text=_("🏭 Enterprise"),
                    callback_data=CaseCB(action=CaseAction.ENTERPRISE, case=case.id),
                )
        builder.button(
            text=_("✅ Close"), callback_data=CaseCB(action=CaseAction.CLOSE, case=case.id)
        )
        return builder.as_markup()

    async def post_card(self, case: Case) -> Case:
        """A forum topic for the case (or, without forum mode, a card message) in the group."""
        with self.i18n.use_locale(self.settings.default_locale):
            name = f"#{case.id} · {case.locale.upper()} · {topic_label(case.topic)}"
            thread_id = None
            try:
                topic = await self.bot.create_forum_topic(self.group, name[:128])
                thread_id = topic.message_thread_id
            except TelegramBadRequest:
                log.info("the volunteers' group has no topics: case cards instead")
            text = await self.card_text(case)
            card = await self.limiter.send(
                self.group,
                lambda: self.bot.send_message(
                    self.group, text, message_thread_id=thread_id, reply_markup=self.card_kb(case)
                ),
            )
        await self.cases.set_routing(case.id, thread_id, card.message_id)
        updated = await self.cases.get(case.id)
        assert updated is not None
        return updated

    async def refresh_card(self, case_id: int) -> None:
        case = await self.cases.get(case_id)
        if case is None or case.card_message_id is None:
            return
        with self.i18n.use_locale(self.settings.default_locale):
            text, keyboard = await self.card_text(case), self.card_kb(case)
        # "Not modified", or the card is gone: the case goes on either way.
        with contextlib.suppress(TelegramBadRequest):
            await self.bot.edit_message_text(
                text, chat_id=self.group, message_id=case.card_message_id, reply_markup=keyboard
            )

    async def note(
        self, case: Case, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> None:
        """A line from the bot in the case's topic (or under its card); replies to it route."""
        sent = await self.limiter.send(
            self.group,
            lambda: self.bot.send_message(
                self.group,
                text,
                message_thread_id=case.thread_id,
                reply_parameters=self._under_card(case),
                reply_markup=reply_markup,
            ),
        )
        await self.cases.remember_message(case.id, sent.message_id)

    @staticmethod
    def _under_card(case: Case) -> ReplyParameters | None:
        """Without topics, a case's messages hang under its card (sent even if it is gone)."""
        if case.thread_id is not None or case.card_message_id is None:
            return None
        return ReplyParameters(message_id=case.card_message_id, allow_sending_without_reply=True)

    # -- relaying ----------------------------------------------------------------------------

    async def to_group(self, case: Case, message: Message) -> bool:
        """Copy a worker's message into the case, paced under the group's 20-a-minute limit."""
        try:
            copy = await self.limiter.send(
                self.group,
                lambda: message.copy_to(
                    self.group,
                    message_thread_id=case.thread_id,
                    reply_parameters=self._under_card(case),
                    protect_content=True,
                ),
            )
        except TelegramAPIError as error:
            log.warning("a worker's message did not reach the group: %s", type(error).__name__)
            return False
        await self.cases.remember_message(case.id, copy.message_id)
        return True

    async def to_worker(self, case: Case, message: Message) -> str | None:
        """Copy a volunteer's message to the worker; returns why it failed, or None."""
        chat_id = await self.worker_chat(case)
        if chat_id is None:
            return _(
                "The worker can no longer be reached (they blocked the bot or deleted their data)."
            )
        try:
            await self.limiter.send(
                chat_id, lambda: message.copy_to(chat_id, protect_content=True)
            )
        except TelegramForbiddenError:
            return _("The worker has blocked the bot: the message was not delivered.")
        except TelegramBadRequest as error:
            return _("Telegram refused this message ({reason}): it was not delivered.").format(
                reason=html.escape(error.message)
            )
        except TelegramAPIError as error:
            return _("The message could not be delivered ({reason}).").format(
                reason=type(error).__name__
            )
        return None

    async def tell_worker(
        self, case: Case, text: Callable[[], str], reply_markup: InlineKeyboardMarkup | None = None
    ) -> bool:
        """Write to the worker in their language; False when they cannot be reached."""
        chat_id = await self.worker_chat(case)
        if chat_id is None:
            return False
        with self.i18n.use_locale(case.locale):
            rendered = text()
            markup = reply_markup
        try:
            await self.limiter.send(
                chat_id,
                lambda: self.bot.send_message(
                    chat_id, rendered, protect_content=True, reply_markup=markup
                ),
            )
        except TelegramAPIError:
            return False
        return True

    def seconds_since(self, moment: datetime | None) -> int:
        return int((self.now - moment).total_seconds()) if moment else 0
