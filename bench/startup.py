"""Start-up time: from process start to a built dispatcher (issue 8, item 6: < 3 s).

    .venv/bin/python -m bench.startup [runs]     (default 5)

Each run is a new Python process that does what ``python -m bot run`` does before it polls:
import ``bot.__main__`` (and with it every flow), open the services (key, catalogs, content,
database, migrations, directory seed, enterprise index), create the bot and the dispatcher.
It reports the time since the parent started it, measured on the wall clock shared by both
processes, and its own phases. The first run starts on an empty database (migrations and the
directory seed included); the others reopen that database, as a restart does.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 3.0


def child(folder: Path, spawned: float) -> None:
    """Runs in the measured process."""
    entered = time.time()
    # The imports are what is being measured: they happen here, not at the top.
    import bot.__main__  # noqa: F401, PLC0415
    from bot.app import Services, create_bot, create_dispatcher  # noqa: PLC0415
    from bot.config import Settings  # noqa: PLC0415
    from bot.local_api import LOCAL_TOKEN, LocalBotAPI  # noqa: PLC0415

    imported = time.time()

    async def build() -> tuple[float, float]:
        settings = Settings(
            _env_file=None, database_path=folder / "bot.sqlite3", key_file=folder / "key"
        )
        services = await Services.open(settings)
        opened = time.time()
        create_bot(services, session=LocalBotAPI(), token=LOCAL_TOKEN)
        create_dispatcher(services)
        ready = time.time()
        await services.close()
        return opened, ready

    opened, ready = asyncio.run(build())
    print(
        f"{ready - spawned:.3f} {entered - spawned:.3f} {imported - entered:.3f}"
        f" {opened - imported:.3f} {ready - opened:.3f}",
        flush=True,
    )


def run_once(folder: Path) -> tuple[float, list[float], float]:
    """(seconds to ready, its phases, seconds until the process exited)."""
    spawned = time.time()
    process = subprocess.run(
        [sys.executable, "-m", "bench.startup", "--child", str(folder), repr(spawned)],
        capture_output=True,
        text=True,
        check=True,
    )
    exited = time.time() - spawned
    ready, *phases = (float(word) for word in process.stdout.split())
    return ready, phases, exited


def main(runs: int) -> None:
    folder = Path(tempfile.mkdtemp())
    results = [run_once(folder) for _ in range(runs + 1)]
    labels = ("interpreter", "imports", "Services.open", "bot and dispatcher")
    first, rest = results[0], results[1:]
    print(
        f"first start (empty database): ready after {first[0]:.2f} s ("
        + ", ".join(f"{label} {p:.2f}" for label, p in zip(labels, first[1], strict=True))
        + ")"
    )
    ready = statistics.median(r[0] for r in rest)
    phases = [statistics.median(r[1][n] for r in rest) for n in range(len(labels))]
    print(
        f"restart, median of {len(rest)}: ready after {ready:.2f} s ("
        + ", ".join(f"{label} {p:.2f}" for label, p in zip(labels, phases, strict=True))
        + f"); max {max(r[0] for r in rest):.2f} s, exited after"
        f" {statistics.median(r[2] for r in rest):.2f} s"
    )
    worst = max(first[0], ready)
    print(f"target < {TARGET:.0f} s: {'met' if worst < TARGET else 'not met'} ({worst:.2f} s)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), float(sys.argv[3]))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
