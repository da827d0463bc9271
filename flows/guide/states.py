"""Conversation states of the guide."""

from aiogram.fsm.state import State, StatesGroup


class DocumentSG(StatesGroup):
    """Filling a document's fields in the chat; which field is in the data, values are not."""

    field = State()
