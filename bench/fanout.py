"""One message to a 300-member circle, against a Bot API that enforces Telegram's limits.

    .venv/bin/python -m bench.fanout [members]     (default 300)

A coworker joins a circle of ``members`` through the production code (``Circles.join``, which
tells the others through ``Circles.announce``, the fan-out and the outgoing limiter), with the
bot's retrying session. The session answers 429 whenever a message would break Telegram's
limits (30 messages a second overall, 1 a second per chat with bursts of 3), as
tests/test_fanout.py does. Time is virtual: sleeping costs nothing, and the delivery time is
what it would be against Telegram. The target (issue 8, item 5): within 15% of the minimum
Telegram's limits allow, and no 429s.
"""

from __future__ import annotations

import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.app import Services, create_bot
from bot.config import Settings
from bot.local_api import LOCAL_TOKEN
from bot.strict_api import OVERALL_PER_SECOND, StrictTelegram, VirtualTime
from bot.telegram import OutgoingLimiter
from flows.match.circles import Circles, Outcome


def minimum_seconds(messages: int) -> float:
    """The first 30 go at once, then 30 more each second: the last leaves this much later."""
    return float(math.ceil(messages / OVERALL_PER_SECOND) - 1)


@dataclass
class Fanout:
    members: int
    delivered: int
    refused: int  # answered 429
    retried: int
    last: float  # virtual seconds until the last message was accepted
    wall: float  # real seconds the join took

    @property
    def over_minimum(self) -> float:
        return self.last / minimum_seconds(self.members) - 1

    @property
    def met(self) -> bool:
        return self.over_minimum <= 0.15 and not self.refused and self.delivered == self.members


async def circle_fanout(services: Services, members: int) -> Fanout:
    """A coworker joins a circle of ``members``: the others are told, in virtual time."""
    clock = VirtualTime()
    services.sleep = clock.sleep  # the retrying session waits in virtual time
    api = StrictTelegram(clock)
    bot = create_bot(services, session=api, token=LOCAL_TOKEN)
    limiter = OutgoingLimiter(clock=clock.clock, sleep=clock.sleep)
    identity, today = services.identity, services.today()
    keys = []
    for n in range(members + 1):
        user_id = 20_000_000 + n
        key = identity.user_key(user_id)
        locale = ("ru", "be", "en")[n % 3]
        await services.users.get_or_create(key, identity.seal_chat(user_id, key), today, locale)
        keys.append(key)
    enterprise_id = (await services.enterprises.aliases())[0][1]
    enterprise = await services.enterprises.get(enterprise_id)
    assert enterprise is not None
    await services.circles.open(enterprise_id, keys[:members], today)
    circles = Circles(
        bot=bot,
        settings=services.settings,
        i18n=services.i18n,
        identity=identity,
        users=services.users,
        enterprises=services.enterprises,
        circles=services.circles,
        limiter=limiter,
        record_event=services.record_event,
        today=today,
        locks=services.circle_locks,
    )
    started = time.perf_counter()
    with services.i18n.context():
        result = await clock.run(circles.join(keys[members], enterprise))
    wall = time.perf_counter() - started
    assert result.outcome is Outcome.JOINED, result
    return Fanout(
        members=members,
        delivered=sum(len(sent) for sent in api.delivered.values()),
        refused=api.refused,
        retried=sum(services.delivery.retried.values()),
        last=max((t for sent in api.delivered.values() for t, _ in sent), default=0.0),
        wall=wall,
    )


async def main(members: int) -> None:
    folder = Path(tempfile.mkdtemp())
    settings = Settings(
        _env_file=None, database_path=folder / "bench.sqlite3", key_file=folder / "key"
    )
    services = await Services.open(settings)
    run = await circle_fanout(services, members)
    await services.close()
    print(
        f"circle of {members} members: {run.delivered} delivered, {run.refused} answered 429,"
        f" {run.retried} retried"
    )
    print(
        f"all delivered after {run.last:.2f} s (virtual); Telegram's limits allow"
        f" {minimum_seconds(members):.2f} s: {run.over_minimum:+.1%}"
    )
    print(
        f"target within 15% and no 429s: {'met' if run.met else 'not met'};"
        f" the join took {run.wall:.2f} s of real time"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
