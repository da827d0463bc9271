"""Replies to everything no flow handled, in private chats: never silence, never a crash.

This router is included after every flow (see ``bot.app``): it answers only what they left.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import IsCommand
from flows.onboarding.keyboards import main_menu_kb


def create_fallback_router() -> Router:
    router = Router(name=__name__)
    router.message.register(on_unknown_command, IsCommand())
    router.message.register(on_unexpected_message)
    router.edited_message.register(on_edited_message)
    router.callback_query.register(on_stale_button)
    return router


async def _in_flow_hint(state: FSMContext) -> str:
    if await state.get_state() is None:
        return ""
    return "\n\n" + _("To leave the current step, send /cancel.")


async def on_unknown_command(message: Message, state: FSMContext) -> None:
    """A command no flow knows."""
    text = _("I don't know that command. Try /start for the menu or /help for the list.")
    await message.answer(text + await _in_flow_hint(state))


async def on_unexpected_message(message: Message, state: FSMContext) -> None:
    """Text, stickers, photos, voice, files… that nothing expected."""
    if message.text is not None:
        text = _("I understand buttons and commands. Please choose from the menu.")
    else:
        text = _(
            "I can't do anything with this kind of message here. "
            "Please use the buttons, or send /help."
        )
    await message.answer(text + await _in_flow_hint(state), reply_markup=main_menu_kb())


async def on_edited_message(edited_message: Message) -> None:
    """Edits are not re-read: say so, so the user is not left wondering."""
    await edited_message.answer(
        _("I don't read edited messages. Please send the corrected text as a new message.")
    )


async def on_stale_button(callback: CallbackQuery) -> None:
    """A button from an old or forged message: a polite toast, nothing else happens."""
    await callback.answer(_("This button has expired. Send /start for a fresh menu."))
