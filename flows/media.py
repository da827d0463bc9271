"""What a relayed message may carry without giving its sender away."""

from __future__ import annotations

from aiogram.types import Message


def carries_hidden_data(message: Message) -> bool:
    """A picture or a video sent as a *file* keeps its hidden data (where it was taken, the
    camera); Telegram strips that only from photos and videos sent as such."""
    mime = message.document.mime_type if message.document else None
    return bool(mime) and str(mime).startswith(("image/", "video/"))
