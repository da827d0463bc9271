"""The report's chart: users over twelve weeks, the guide funnel, cases and response times.

matplotlib is optional (the ``charts`` extra): without it the text report still goes out.
Rendering takes ~0.1 s and runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging

from flows.stats.report import Report

log = logging.getLogger(__name__)


def _render(report: Report, titles: dict[str, str]) -> bytes:
    import matplotlib  # noqa: PLC0415 (optional, and slow to import: only when drawing)

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(9, 9), dpi=100)
    users, funnel, cases = figure.subplots(3, 1)
    weeks = [week[5:] for week, _, _ in report.history]
    users.plot(weeks, [new for _, new, _ in report.history], marker="o", label=titles["new"])
    users.plot(
        weeks, [active for _, _, active in report.history], marker="o", label=titles["active"]
    )
    users.set_title(titles["users"])
    users.legend()
    steps = report.funnel  # suppressed like the text: a chart shows nothing the text hides
    funnel.barh([name for name, _ in steps][::-1], [count for _, count in steps][::-1])
    funnel.set_title(titles["funnel"])
    labels = [titles["opened"], titles["taken"], titles["closed"]]
    values = [report.this.cases_opened, report.this.cases_taken, report.this.cases_closed]
    cases.bar(labels, values)
    cases.set_title(titles["cases"])
    cases.set_xlabel(titles["response"])
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    # Counts of people and cases: whole numbers on every axis.
    users.yaxis.set_major_locator(MaxNLocator(integer=True))
    funnel.xaxis.set_major_locator(MaxNLocator(integer=True))
    cases.yaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


async def render_chart(report: Report, titles: dict[str, str]) -> bytes | None:
    """The PNG, or None when matplotlib is not installed or drawing failed."""
    try:
        return await asyncio.to_thread(_render, report, titles)
    except ImportError:
        log.warning("matplotlib is not installed: the report goes out without its chart")
    except Exception:
        log.exception("the chart could not be drawn")
    return None
