"""Helpers for conversation data shared by the flows."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext


async def drop_data(state: FSMContext, *keys: str) -> None:
    """Remove keys from the conversation data (not set them to None: an empty row is deleted)."""
    data = await state.get_data()
    if any(key in data for key in keys):
        for key in keys:
            data.pop(key, None)
        await state.set_data(data)
