"""How long one week's report takes over a large event history (issue 6: < 2 s at 1M events).

    .venv/bin/python -m bench.stats_report [events]     (default 1,000,000)

Events are spread over 52 weeks in the shape the bot records them; the report of one week in
the middle (its figures, the week before, and twelve weeks of activity) is timed five times.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bot.db import Database, apply_migrations
from bot.db.enterprises import EnterprisesRepo
from bot.db.events import EventsRepo
from bot.i18n import create_i18n
from flows.stats.report import build_report

KINDS: list[tuple[str, Callable[[random.Random], dict[str, object]]]] = [
    ("user_active", lambda r: {"locale": r.choice(["ru", "be", "en"])}),
    ("guide_step_viewed", lambda r: {"pack": "by", "step": r.choice(["safety", "rights"])}),
    ("faq_searched", lambda r: {"hit": r.random() < 0.7, "locale": "ru"}),
    ("user_started", lambda r: {"locale": "be"}),
    ("interest_registered", lambda r: {"enterprise": r.randint(1, 200)}),
    ("case_taken", lambda r: {"case": 1, "wait_seconds": r.randint(60, 7200)}),
    ("case_first_response", lambda r: {"case": 1, "seconds": r.randint(60, 9000)}),
    ("case_rated", lambda r: {"case": 1, "score": r.randint(1, 5)}),
]
START = date(2026, 1, 5)


async def main(total: int) -> None:
    folder = Path(tempfile.mkdtemp())
    db = await Database.open(folder / "bench.sqlite3")
    await apply_migrations(db)
    rng = random.Random(7)
    rows = []
    for n in range(total):
        kind, fields = KINDS[n % len(KINDS)]
        day = START + timedelta(days=rng.randrange(364))
        user = f"user{rng.randrange(50_000)}" if kind != "guide_step_viewed" else None
        rows.append((kind, user, day.isoformat(), json.dumps(fields(rng))))
    started = time.perf_counter()
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO events (kind, user_key, occurred_on, fields) VALUES (?, ?, ?, ?)", rows
        )
    print(f"inserted {total:,} events in {time.perf_counter() - started:.1f} s")
    i18n = create_i18n("en")
    events, enterprises = EventsRepo(db), EnterprisesRepo(db)
    monday = START + timedelta(weeks=26)
    timings = []
    with i18n.context(), i18n.use_locale("en"):
        for _ in range(5):
            started = time.perf_counter()
            report = await build_report(events, enterprises, monday, 5, "en")
            timings.append(time.perf_counter() - started)
    print(
        f"report {report.label} over {total:,} events ({report.this.active_users:,} active users):"
        f" median {statistics.median(timings):.2f} s, max {max(timings):.2f} s (target < 2 s)"
    )
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
