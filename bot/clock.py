"""The time, in one place: everything that needs "now" takes a clock, so tests can set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

#: A function returning the current time, timezone-aware.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
