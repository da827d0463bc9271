"""Helpers every flow uses to show a screen."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show_screen(
    callback: CallbackQuery, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message the button was on; send a new one when it can no longer be edited.

    Telegram refuses edits of messages it no longer gives the bot (older than 48 hours) and
    answers "message is not modified" when nothing changed, which is not an error here.
    """
    message = callback.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=reply_markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                await message.answer(text, reply_markup=reply_markup)
    elif message is not None and callback.bot is not None:
        await callback.bot.send_message(message.chat.id, text, reply_markup=reply_markup)
    await callback.answer()
