"""Logging that carries no Telegram ids, names or texts.

Code logs only kinds, counts and short key prefixes. As a second line of defence, the formatter
masks every long run of digits (Telegram ids are 5 to 13 digits) and tracebacks are reduced
to file, line and function: an exception's message may quote a user's text.
"""

from __future__ import annotations

import logging
import re
import traceback

_LONG_NUMBER = re.compile(r"(?<!\d)-?\d{5,}(?!\d)")
#: A bot token inside a URL (``/bot123:ABC/``) would name the bot and let anyone drive it.
_TOKEN = re.compile(r"bot\d+:[\w-]+")


def safe_traceback(error: BaseException) -> str:
    """The exception's class and where it was raised, without its message or any values."""
    frames = traceback.extract_tb(error.__traceback__)
    lines = [f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]
    return "\n".join([f"{type(error).__module__}.{type(error).__qualname__}", *lines])


class RedactingFormatter(logging.Formatter):
    """Masks long numbers and replaces tracebacks with :func:`safe_traceback`."""

    def format(self, record: logging.LogRecord) -> str:
        exc_info = record.exc_info
        record.exc_info = None
        record.exc_text = None
        try:
            text = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[1] is not None:
            text = f"{text}\n{safe_traceback(exc_info[1])}"
        return _LONG_NUMBER.sub("<n>", _TOKEN.sub("bot<token>", text))


def configure_logging(level: str = "INFO") -> None:
    """Send every logger to stderr through the redacting formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's access log and aiogram's per-update lines are noise at INFO; keep warnings.
    logging.getLogger("aiogram.event").setLevel(max(logging.getLevelName(level), logging.WARNING))
