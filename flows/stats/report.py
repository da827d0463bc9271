"""Building the weekly report from events: figures, their change, suppressed breakdowns."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from aiogram.utils.i18n import gettext as _

from bot.db.enterprises import Enterprise, EnterprisesRepo
from bot.db.events import EventsRepo
from bot.stats import (
    WeekFigures,
    compute,
    csv_bytes,
    median,
    percentile,
    safe_breakdown,
    suppress,
    week_label,
)

WEEKS_IN_CHART = 12


@dataclass
class Report:
    week: date  # its Monday
    label: str  # 2026-W47
    text: str  # Telegram HTML
    csv: bytes
    history: list[tuple[str, int, int]]  # (week, new users, active users), oldest first
    this: WeekFigures
    previous: WeekFigures
    #: Steps read, in guide order, with small counts merged as in the text (for the chart).
    funnel: list[tuple[str, int]]
    #: The median first response in seconds, or None when fewer than k were measured.
    response_median: float | None


def _change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    delta = now - before
    if delta == 0:
        return " (±0)"
    return f" ({delta:+g})"


def _enough(values: list[int], k: int) -> list[int]:
    return values if len(values) >= k else []


def _p90(values: list[int]) -> float | None:
    """The 90th percentile, from ten values on: below that the nearest rank is the maximum,
    one slow case's exact time."""
    return percentile(values, 0.9) if len(values) >= 10 else None


def _min(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60)


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100)


def _one(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def build_report(
    events: EventsRepo,
    enterprises: EnterprisesRepo,
    monday: date,
    k: int,
    locale: str,
    step_order: Sequence[str] = (),
) -> Report:
    """The report of the ISO week that starts on ``monday``, against the week before.

    ``step_order`` lists the guide's step ids in reading order, so the funnel reads as one.
    """
    this = compute(await events.between(monday, monday + timedelta(days=7)))
    previous = compute(await events.between(monday - timedelta(days=7), monday))
    history = []
    for back in range(WEEKS_IN_CHART - 1, -1, -1):
        start = monday - timedelta(days=7 * back)
        new, active = await events.activity(start, start + timedelta(days=7))
        history.append((week_label(start), new, active))

    rows: list[tuple[str, str, str]] = [(_("Figure"), week_label(monday), _("week before"))]
    minutes = " " + _("min")

    def figure(label: str, now: float | None, before: float | None, unit: str = "") -> str:
        """One figure with its unit, the week before, and the change (in the same unit)."""

        def shown(value: float | None) -> str:
            return "—" if value is None else f"{value:g}{unit}"

        rows.append((label, shown(now), shown(before)))
        return html.escape(f"{label}: {shown(now)}{_change(now, before)}")

    def heading(text: str) -> str:
        return f"<b>{html.escape(text)}</b>"

    def line(text: str) -> str:
        return html.escape(text)

    def breakdown(text: str) -> str:
        """A breakdown line: in the text, and as a row of the CSV."""
        label, _sep, value = text.partition(": ")
        rows.append((label, value, ""))
        return html.escape(text)

    # Timings and ratings from fewer than k values would tell one person's: held back.
    take, took = _enough(this.take_seconds, k), _enough(previous.take_seconds, k)
    answer, answered = _enough(this.response_seconds, k), _enough(previous.response_seconds, k)
    known = await _known(enterprises, this.interests_by_enterprise)
    enterprises_line, cities_line = _enterprises(known, k, locale), _cities(known, k, locale)
    lines = [
        heading(_("Weekly report {week}").format(week=week_label(monday))),
        line(
            _("{start} to {end}").format(
                start=monday.isoformat(), end=(monday + timedelta(days=6)).isoformat()
            )
        ),
        "",
        heading(_("People")),
        figure(_("New users"), this.new_users, previous.new_users),
        figure(_("Active users"), this.active_users, previous.active_users),
        breakdown(
            _("By language: {counts}").format(counts=_breakdown(this.active_by_language, k))
        ),
        "",
        heading(_("Guide")),
        figure(_("Guides started"), this.guide_started, previous.guide_started),
        figure(_("Guides completed"), this.guide_completed, previous.guide_completed),
        figure(
            _("Documents generated"),
            sum(this.documents.values()),
            sum(previous.documents.values()),
        ),
        figure(_("FAQ answers found"), this.faq_hits, previous.faq_hits),
        figure(_("FAQ questions without an answer"), this.faq_misses, previous.faq_misses),
        breakdown(_("Steps read: {counts}").format(counts=_breakdown(this.funnel, k, step_order))),
        breakdown(_("Documents by kind: {counts}").format(counts=_breakdown(this.documents, k))),
        "",
        heading(_("Coworkers")),
        figure(_("Interests registered"), this.interests, previous.interests),
        figure(
            _("New pending enterprises"), this.pending_enterprises, previous.pending_enterprises
        ),
        figure(_("Circles opened"), this.circles_opened, previous.circles_opened),
        figure(
            _("Circles reaching the founders' number"),
            this.circles_reaching_founders,
            previous.circles_reaching_founders,
        ),
        figure(_("Contact exchanges (opt-ins)"), this.reveals, previous.reveals),
        breakdown(_("By enterprise: {counts}").format(counts=enterprises_line)),
        breakdown(_("By city: {counts}").format(counts=cities_line)),
        "",
        heading(_("Volunteers")),
        figure(_("Cases opened"), this.cases_opened, previous.cases_opened),
        figure(_("Cases taken"), this.cases_taken, previous.cases_taken),
        figure(_("Cases closed"), this.cases_closed, previous.cases_closed),
        figure(_("Time to take, median"), _min(median(take)), _min(median(took)), minutes),
        figure(
            _("Time to take, 90th percentile"),
            _min(_p90(take)),
            _min(_p90(took)),
            minutes,
        ),
        figure(_("First response, median"), _min(median(answer)), _min(median(answered)), minutes),
        figure(
            _("First response, 90th percentile"),
            _min(_p90(answer)),
            _min(_p90(answered)),
            minutes,
        ),
        figure(
            _("Answered within an hour"),
            _pct(this.answered_within_hour if answer else None),
            _pct(previous.answered_within_hour if answered else None),
            "%",
        ),
        figure(
            _("Average rating"),
            _one(this.average_rating if len(this.ratings) >= k else None),
            _one(previous.average_rating if len(previous.ratings) >= k else None),
        ),
        "",
        "<i>" + line(_("Counts below {k} in breakdowns are shown as <{k}.").format(k=k)) + "</i>",
    ]
    return Report(
        week=monday,
        label=week_label(monday),
        text="\n".join(lines),
        csv=csv_bytes(rows),
        history=history,
        this=this,
        previous=previous,
        funnel=_groups(this.funnel, k, step_order),
        response_median=median(answer),
    )


def _safe(counts: Counter[str], k: int, order: Sequence[str]) -> tuple[list[tuple[str, int]], int]:
    """The groups safe to name (in ``order`` where given, else largest first), and the rest."""
    named, rest = safe_breakdown(dict(counts), k)
    if order:
        position = {key: index for index, key in enumerate(order)}
        named.sort(key=lambda kv: position.get(kv[0], len(position)))
    return named, rest


def _groups(counts: Counter[str], k: int, order: Sequence[str] = ()) -> list[tuple[str, int]]:
    """A breakdown for the chart: the same groups as the text, the rest as one bar when it
    is not small itself (the text shows a small rest as "<5", a bar could only be exact)."""
    named, rest = _safe(counts, k, order)
    return named + ([(_("other"), rest)] if rest >= k else [])


def _breakdown(counts: Counter[str], k: int, order: Sequence[str] = ()) -> str:
    named, rest = _safe(counts, k, order)
    return _joined(named, rest, k, _("other {count}"))


def _joined(named: list[tuple[str, int]], rest: int, k: int, other: str) -> str:
    """ "ru 7, be 6, other <5": the named groups, then the rest under ``other`` ({count})."""
    parts = [f"{key} {count}" for key, count in named]
    if rest:
        parts.append(other.format(count=suppress(rest, k)))
    return ", ".join(parts) or "—"


async def _known(
    enterprises: EnterprisesRepo, counts: Counter[int]
) -> list[tuple[Enterprise | None, int]]:
    """Each enterprise's interests, looked up once for both lines; None for a pending one (its
    name and city were typed by a worker, never shown) or one no longer in the directory."""
    known: list[tuple[Enterprise | None, int]] = []
    for enterprise_id, count in counts.items():
        enterprise = await enterprises.get(enterprise_id)
        known.append((None if enterprise is None or enterprise.pending else enterprise, count))
    return known


def _enterprises(known: list[tuple[Enterprise | None, int]], k: int, locale: str) -> str:
    """Named only where at least k workers registered interest; the rest are summed."""
    names: dict[str, int] = {}
    unnamed = 0
    for enterprise, count in known:
        if enterprise is None or count < k:
            unnamed += count
        else:
            name = enterprise.name(locale)  # two approved names may read alike: add them up
            names[name] = names.get(name, 0) + count
    named, rest = safe_breakdown(names, k, closed=False)
    return _joined(named, rest + unnamed, k, _("other enterprises {count}"))


def _cities(known: list[tuple[Enterprise | None, int]], k: int, locale: str) -> str:
    """Interests by city: a city is named only from k interests (a small town may hold one
    enterprise), and a pending enterprise's city (typed by a worker) never.

    Nor is a city named when its count minus the enterprises named on the line above leaves a
    small remainder: "Zhodino 6" beside "BelAZ 5" would tell that one worker asked about the
    town's other employer.
    """
    cities: Counter[str] = Counter()
    unnamed = 0
    beyond_named: Counter[str] = Counter()  # interests at enterprises not named by name
    for enterprise, count in known:
        if enterprise is None:
            unnamed += count
            continue
        city = enterprise.city(locale)
        cities[city] += count
        if count < k:
            beyond_named[city] += count
    exposed = [city for city in cities if 0 < beyond_named[city] < k]
    rest = sum(cities.pop(city) for city in exposed)
    named, small = safe_breakdown(dict(cities), k, closed=False)
    return _joined(named, rest + small + unnamed, k, _("other cities {count}"))
