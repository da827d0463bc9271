"""Conversation states of matching."""

from aiogram.fsm.state import State, StatesGroup


class MatchSG(StatesGroup):
    """Asking for the enterprise; then, for one not in the directory, its city."""

    enterprise = State()
    city = State()
