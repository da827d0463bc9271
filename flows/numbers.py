"""Numbers typed by people or carried by buttons: ASCII digits only, and small enough.

``str.isdigit`` accepts "²" and other digits ``int`` refuses, and SQLite refuses integers past
2**63; a forged button or a typo must get a usage line, never an error.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field

#: Telegram ids fit in 52 bits; case and circle numbers are far smaller.
LIMIT = 2**53
_NUMBER = re.compile(r"[0-9]{1,16}")

#: A callback-data field for an id: a forged out-of-range value makes the button "expired".
Id = Annotated[int, Field(ge=0, lt=LIMIT)]


def parse_number(text: str | None) -> int | None:
    """The number ``text`` is (spaces around allowed), or None."""
    text = (text or "").strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = int(text)
    return number if number < LIMIT else None
