"""The weekly statistics, computed from events alone.

Weeks are ISO weeks in the bot's time zone (events carry the local day). Any breakdown count
below ``k`` is shown as "<k", so that nobody can be singled out from a small number.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from bot.db.events import Event

HOUR = 3600


def week_start(day: date) -> date:
    """The Monday of the ISO week that holds ``day``."""
    return day - timedelta(days=day.weekday())


def parse_week(text: str) -> date:
    """``2026-W47`` → the Monday of that ISO week; ValueError when it is not one."""
    year, sep, week = text.strip().upper().partition("-W")
    if not sep or not year.isdigit() or not week.isdigit():
        raise ValueError(text)
    return date.fromisocalendar(int(year), int(week), 1)


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def suppress(count: int, k: int) -> str:
    """A count as shown in a breakdown: the number, or "<k" below k."""
    return str(count) if count >= k else f"<{k}"


def safe_breakdown(
    counts: dict[str, int], k: int, *, closed: bool = True
) -> tuple[list[tuple[str, int]], int]:
    """(named groups, the rest) such that no small group can be read off.

    Groups below k go to "the rest". Over a closed set of groups (three languages, twelve
    steps) the report's total minus the named groups gives the rest exactly, and a small rest
    of known groups tells too much ("12 active, ru 10": be and en hold one person each). So
    the smallest named groups join the rest until it is empty or at least k. Over an open set
    (enterprises, cities) the rest points at none of hundreds of groups.
    """
    named = sorted(
        ((key, count) for key, count in counts.items() if count >= k), key=lambda kv: -kv[1]
    )
    rest = sum(count for count in counts.values() if 0 < count < k)
    while closed and 0 < rest < k and named:
        rest += named.pop()[1]
    return named, rest


@dataclass
class WeekFigures:
    """Every figure of one week."""

    new_users: int = 0
    active_users: int = 0
    active_by_language: Counter[str] = field(default_factory=Counter)
    guide_started: int = 0
    guide_completed: int = 0
    funnel: Counter[str] = field(default_factory=Counter)  # step id → views
    documents: Counter[str] = field(default_factory=Counter)  # kind → files
    faq_hits: int = 0
    faq_misses: int = 0
    interests: int = 0
    interests_by_enterprise: Counter[int] = field(default_factory=Counter)
    pending_enterprises: int = 0
    circles_opened: int = 0
    circles_reaching_founders: int = 0
    reveals: int = 0
    cases_opened: int = 0
    cases_taken: int = 0
    cases_closed: int = 0
    take_seconds: list[int] = field(default_factory=list)
    response_seconds: list[int] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    @property
    def answered_within_hour(self) -> float | None:
        if not self.response_seconds:
            return None
        return sum(1 for s in self.response_seconds if s <= HOUR) / len(self.response_seconds)

    @property
    def average_rating(self) -> float | None:
        return statistics.fmean(self.ratings) if self.ratings else None


def percentile(values: list[int], share: float) -> float | None:
    """The nearest-rank percentile (0 < share ≤ 1), or None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-int(share * 100) * len(ordered) // 100))  # ceil(share * n)
    return float(ordered[min(rank, len(ordered)) - 1])


def median(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


#: Events that are simply counted, and the figure each one adds to.
COUNTED = {
    "user_started": "new_users",
    "guide_started": "guide_started",
    "guide_completed": "guide_completed",
    "enterprise_pending": "pending_enterprises",
    "circle_opened": "circles_opened",
    "circle_founders_reached": "circles_reaching_founders",
    "reveal_opt_in": "reveals",
}
#: Case events counted once per case (a case taken, released and taken again is one).
PER_CASE = {
    "case_opened": "cases_opened",
    "case_taken": "cases_taken",
    "case_closed": "cases_closed",
}
#: Events that add one number (from a field) to a list of values.
MEASURED = {
    "case_taken": ("take_seconds", "wait_seconds"),
    "case_first_response": ("response_seconds", "seconds"),
    "case_rated": ("ratings", "score"),
}
#: Events that count toward a breakdown, by one of their fields.
BROKEN_DOWN = {
    "guide_step_viewed": ("funnel", "step"),
    "document_generated": ("documents", "kind"),
}


def compute(events: Iterable[Event]) -> WeekFigures:
    """The figures of the events of one week (and only those)."""
    figures = WeekFigures()
    active: dict[str, str | None] = {}
    interested: set[tuple[int, str]] = set()
    seen_cases: set[tuple[str, object]] = set()
    for event in events:
        kind, fields = event.kind, event.fields
        if event.user_key is not None and kind in ("user_started", "user_active"):
            # Only what the person did counts as activity, not what happened to them.
            active[event.user_key] = fields.get("locale") or active.get(event.user_key)
        if kind in COUNTED:
            setattr(figures, COUNTED[kind], getattr(figures, COUNTED[kind]) + 1)
        if (kind in PER_CASE or kind in MEASURED) and fields.get("case") is not None:
            case = (kind, fields["case"])
            if case in seen_cases:
                continue  # a later take or response of the same case: the first one counts
            seen_cases.add(case)
        if kind in PER_CASE:
            setattr(figures, PER_CASE[kind], getattr(figures, PER_CASE[kind]) + 1)
        if kind in MEASURED:
            values, name = MEASURED[kind]
            getattr(figures, values).append(int(fields.get(name, 0)))
        if kind in BROKEN_DOWN:
            counter, name = BROKEN_DOWN[kind]
            getattr(figures, counter)[str(fields.get(name))] += 1
        if kind == "faq_searched":
            if fields.get("hit"):
                figures.faq_hits += 1
            else:
                figures.faq_misses += 1
        elif kind == "interest_registered" and event.user_key is not None:
            interested.add((int(fields.get("enterprise", 0)), event.user_key))
    # People, not events: joining, leaving and joining again is one interest.
    figures.interests_by_enterprise = Counter(enterprise for enterprise, _ in interested)
    figures.interests = len(interested)
    figures.active_users = len(active)
    figures.active_by_language = Counter(locale or "?" for locale in active.values())
    return figures


def csv_bytes(rows: list[tuple[str, str, str]]) -> bytes:
    """UTF-8 with a BOM, so that spreadsheets read Cyrillic: (figure, this week, last week)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")
