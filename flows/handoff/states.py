"""Conversation states of the hand-off (worker side)."""

from aiogram.fsm.state import State, StatesGroup


class HelpSG(StatesGroup):
    """Choosing a topic, then writing the first message; a comment after rating."""

    first_message = State()
    comment = State()
