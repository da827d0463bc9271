"""A local Bot API that keeps no record of the calls it answers.

``LocalBotAPI`` records every call for tests to inspect. Over thousands of updates that record
holds every outgoing message object alive: the bot itself keeps none of them, and the
collector's full passes over them (about 0.2 s each with the bot's heap) would be charged to
the bot. Benchmarks that measure latency or memory use this one instead.
"""

from __future__ import annotations

from typing import Any, SupportsIndex

from bot.local_api import LocalBotAPI


class _Forgetful(list[Any]):
    """A list that drops whatever is appended to it."""

    def append(self, item: Any, /) -> None:
        pass

    def insert(self, index: SupportsIndex, item: Any, /) -> None:
        pass


class QuietBotAPI(LocalBotAPI):
    def __init__(self) -> None:
        super().__init__(strict_html=False)
        self.calls = _Forgetful()
        self.sent_message_ids = _Forgetful()
