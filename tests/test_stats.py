"""The weekly report: exact figures from a synthetic history, suppression, weeks in Minsk time,
idempotent and catch-up sending, access, the chart and the CSV."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import methods
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import BufferedInputFile

from bot.app import Services
from bot.config import Settings
from bot.db.events import EventsRepo
from bot.events import EventKind, EventRecorder
from bot.local_api import QueuedError
from bot.stats import parse_week, percentile, safe_breakdown, suppress, week_label
from flows.stats.report import Report, build_report
from flows.stats.router import guide_step_order, run_reports, send_due_report
from tests.conftest import ChatHarness, make_settings

COORDINATORS = -100_888_000
ADMIN = 900_000_001
MONDAY = date(2026, 11, 16)  # ISO week 2026-W47


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, coordinators_chat_id=COORDINATORS, admin_ids=[ADMIN], default_locale="en"
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    opened = await Services.open(settings, clock=Clock(datetime(2026, 11, 25, 12, tzinfo=UTC)))
    yield opened
    await opened.close()


async def add(
    repo: EventsRepo, day: date, event_kind: str, user: str | None, /, **fields: Any
) -> None:
    await repo.add(event_kind, user, day, fields)


async def history(repo: EventsRepo) -> None:
    """A week with known figures, and a smaller week before it."""
    week, before = MONDAY, MONDAY - timedelta(days=7)
    for n in range(7):  # 7 new users: 4 ru, 2 be, 1 en
        locale = "ru" if n < 4 else "be" if n < 6 else "en"
        await add(repo, week + timedelta(days=n % 7), "user_started", f"u{n}", locale=locale)
    await add(repo, week, "user_active", "old1", locale="ru")
    for n in range(3):
        await add(repo, before, "user_started", f"p{n}", locale="ru")
    await add(repo, week, "guide_started", "u0", pack="by")
    await add(repo, week, "guide_started", "u1", pack="by")
    await add(repo, week, "guide_completed", "u0", pack="by")
    for step in ("safety", "safety", "routes"):
        await add(repo, week, "guide_step_viewed", None, pack="by", step=step)
    await add(
        repo,
        week,
        "document_generated",
        "u0",
        kind="membership_application",
        locale="be",
        filled=True,
    )
    await add(repo, week, "faq_searched", "u1", hit=True, locale="ru")
    await add(repo, week, "faq_searched", "u2", hit=False, locale="ru")
    for n in range(6):  # 5 interests at enterprise 2, 1 at enterprise 3
        await add(repo, week, "interest_registered", f"u{n}", enterprise=2 if n < 5 else 3)
    await add(repo, week, "circle_opened", None, circle=1)
    await add(repo, week, "case_opened", "u3", case=1, topic="legal", locale="ru")
    await add(repo, week, "case_opened", "u4", case=2, topic="safety", locale="be")
    for case, wait in ((1, 600), (2, 1800), (1, 1200)):  # case 1 released and taken again
        await add(repo, week, "case_taken", None, case=case, wait_seconds=wait)
    for case, seconds in ((1, 900), (2, 5400), (2, 60)):  # a second "first" response: ignored
        await add(repo, week, "case_first_response", None, case=case, seconds=seconds)
    await add(repo, week, "case_closed", "u3", case=1, by="volunteer")
    await add(repo, week, "case_rated", "u3", case=1, score=4)
    await add(repo, week, "case_rated", "u4", case=2, score=5)
    await add(repo, week + timedelta(days=7), "user_started", "later", locale="ru")  # next week


async def weekly(services: Services, k: int = 5, locale: str = "en") -> Report:
    """The report of the known week (W47) of ``history``."""
    await history(services.events)
    with services.i18n.context(), services.i18n.use_locale(locale):
        return await build_report(services.events, services.enterprises, MONDAY, k, locale)


async def due(services: Services, chat: ChatHarness) -> str | None:
    """One pass of the Monday sender, as the running bot makes it every minute."""
    return await send_due_report(
        chat.bot,
        services.settings,
        services.i18n,
        services.events,
        services.enterprises,
        services.clock,
        guide_step_order(services.packs),
    )


async def test_every_figure_is_exact(services: Services) -> None:
    report = await weekly(services, k=2)
    this, before = report.this, report.previous
    assert (this.new_users, before.new_users) == (7, 3)
    assert this.active_users == 8  # seven new and one returning
    assert this.active_by_language == {"ru": 5, "be": 2, "en": 1}
    assert (this.guide_started, this.guide_completed) == (2, 1)
    assert this.funnel == {"safety": 2, "routes": 1}
    assert (this.faq_hits, this.faq_misses) == (1, 1)
    assert this.interests == 6 and this.circles_opened == 1
    assert (this.cases_opened, this.cases_taken, this.cases_closed) == (2, 2, 1)
    assert this.take_seconds == [600, 1800], "the first take of each case counts"
    assert this.response_seconds == [900, 5400]
    assert this.answered_within_hour == 0.5
    assert this.average_rating == 4.5
    text = report.text
    assert "Weekly report 2026-W47" in text
    assert "New users: 7 (+4)" in text
    assert "Time to take, median: 20 min" in text
    assert "Answered within an hour: 50%" in text
    assert "Average rating: 4.5" in text
    assert report.history[-1] == ("2026-W47", 7, 8)


async def test_small_counts_are_suppressed_and_enterprises_named_only_from_k(
    services: Services,
) -> None:
    report = await weekly(services)
    assert "By language: other 8" in report.text, "ru 5 named would leave be + en = 3 of two"
    naftan = await services.enterprises.get(2)
    assert naftan is not None
    assert f"{naftan.name('en')} 5" in report.text, "5 interests: named"
    assert "other enterprises &lt;5" in report.text, "1 interest elsewhere: not named"
    other = await services.enterprises.get(3)
    assert other is not None and other.name("en") not in report.text
    assert suppress(4, 5) == "<5" and suppress(5, 5) == "5"


def test_a_lone_small_group_of_a_closed_set_is_not_given_away() -> None:
    # "ru 7, be 6, other <5" with 14 active users would tell that en is exactly 1.
    assert safe_breakdown({"ru": 7, "be": 6, "en": 1}, 5) == ([("ru", 7)], 7)
    assert safe_breakdown({"ru": 7, "be": 2, "en": 1}, 5) == ([], 10), "be + en = 3: too few"
    assert safe_breakdown({"ru": 10, "be": 1, "en": 1}, 5) == ([], 12)
    assert safe_breakdown({"ru": 9, "be": 3, "en": 3}, 5) == ([("ru", 9)], 6), "6 of two: safe"
    assert safe_breakdown({"ru": 7, "be": 6, "en": 0}, 5) == ([("ru", 7), ("be", 6)], 0)
    # Among hundreds of enterprises "other 1" points at none of them.
    assert safe_breakdown({"Naftan": 5, "MAZ": 1}, 5, closed=False) == ([("Naftan", 5)], 1)


async def test_the_funnel_reads_in_guide_order_and_the_chart_hides_what_the_text_hides(
    services: Services,
) -> None:
    await history(services.events)
    for _n in range(3):  # "routes" now read more often than "safety", which comes first
        await add(services.events, MONDAY, "guide_step_viewed", None, pack="by", step="routes")
    order = guide_step_order(services.packs)
    assert order[:2] == ("safety", "routes")
    with services.i18n.context(), services.i18n.use_locale("en"):
        report = await build_report(services.events, services.enterprises, MONDAY, 2, "en", order)
        assert "Steps read: safety 2, routes 4" in report.text
        assert report.funnel == [("safety", 2), ("routes", 4)]
        report = await build_report(services.events, services.enterprises, MONDAY, 5, "en", order)
        assert "Steps read: other 6" in report.text, "both below 5: summed, and 6 is not"
        assert report.funnel == [("other", 6)], "the chart shows no bar the text hides"
        assert report.response_median is None, "two responses: no median on the chart either"


async def test_a_city_is_not_named_when_it_would_tell_an_unnamed_enterprise(
    services: Services,
) -> None:
    zhodino = []
    for enterprise_id in range(1, 400):
        enterprise = await services.enterprises.get(enterprise_id)
        if enterprise is not None and enterprise.city("en") == "Zhodino":
            zhodino.append(enterprise)
    big, small = zhodino  # the town has two employers in the directory
    for n in range(6):
        await add(services.events, MONDAY, "interest_registered", f"w{n}", enterprise=big.id)
    await add(services.events, MONDAY, "interest_registered", "w9", enterprise=small.id)
    with services.i18n.context(), services.i18n.use_locale("en"):
        report = await build_report(services.events, services.enterprises, MONDAY, 5, "en")
    assert f"By enterprise: {big.name('en')} 6, other enterprises &lt;5" in report.text
    assert "By city: other cities 7" in report.text, "Zhodino 7 would give 7 - 6 = 1"


async def test_the_90th_percentile_waits_for_ten_values(services: Services) -> None:
    for case, wait in enumerate((60, 120, 180, 240, 86_400), start=1):
        await add(services.events, MONDAY, "case_taken", None, case=case, wait_seconds=wait)
    with services.i18n.context(), services.i18n.use_locale("en"):
        report = await build_report(services.events, services.enterprises, MONDAY, 5, "en")
    assert "Time to take, median: 3 min" in report.text
    assert "Time to take, 90th percentile: —" in report.text, "it would be the slowest one"
    for case in range(6, 11):
        await add(services.events, MONDAY, "case_taken", None, case=case, wait_seconds=300)
    with services.i18n.context(), services.i18n.use_locale("en"):
        report = await build_report(services.events, services.enterprises, MONDAY, 5, "en")
    assert "Time to take, 90th percentile: 5 min" in report.text


async def test_timings_and_ratings_from_fewer_than_k_values_are_held_back(
    services: Services,
) -> None:
    await history(services.events)  # two takes, two responses, two ratings
    with services.i18n.context(), services.i18n.use_locale("en"):
        report = await build_report(services.events, services.enterprises, MONDAY, 5, "en")
    for label in ("Time to take, median", "Answered within an hour", "Average rating"):
        assert f"{label}: —" in report.text
    assert "Cases taken: 2" in report.text, "counts are not held back"


async def test_the_csv_has_a_bom_and_every_figure(services: Services) -> None:
    report = await weekly(services, locale="ru")
    assert report.csv.startswith("\ufeff".encode())
    text = report.csv.decode("utf-8-sig")
    assert "2026-W47" in text.splitlines()[0]
    assert "Новые пользователи,7,3" in text
    assert "По языкам," in text, "breakdowns are rows of the CSV too, suppressed alike"
    assert "По предприятиям," in text and "&lt;" not in text


async def test_every_row_of_the_csv(services: Services) -> None:
    report = await weekly(services)
    naftan = await services.enterprises.get(2)
    assert naftan is not None
    name, city = naftan.name("en"), naftan.city("en")
    assert report.csv.decode("utf-8-sig").splitlines() == [
        "Figure,2026-W47,week before",
        "New users,7,3",
        "Active users,8,3",
        "By language,other 8,",
        "Guides started,2,0",
        "Guides completed,1,0",
        "Documents generated,1,0",
        "FAQ answers found,1,0",
        "FAQ questions without an answer,1,0",
        "Steps read,other <5,",
        "Documents by kind,other <5,",
        "Interests registered,6,0",
        "New pending enterprises,0,0",
        "Circles opened,1,0",
        "Circles reaching the founders' number,0,0",
        "Contact exchanges (opt-ins),0,0",
        f'By enterprise,"{name} 5, other enterprises <5",',
        f'By city,"{city} 5, other cities <5",',
        "Cases opened,2,0",
        "Cases taken,2,0",
        "Cases closed,1,0",
        '"Time to take, median",—,—',
        '"Time to take, 90th percentile",—,—',
        '"First response, median",—,—',
        '"First response, 90th percentile",—,—',
        "Answered within an hour,—,—",
        "Average rating,—,—",
    ]
    assert report.funnel == [], "three views in all: no bar, as the text shows <5"


def test_weeks_and_percentiles() -> None:
    assert parse_week("2026-W47") == MONDAY
    assert week_label(MONDAY) == "2026-W47"
    with pytest.raises(ValueError):
        parse_week("last week")
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == 9.0
    assert percentile([], 0.5) is None


async def test_days_are_counted_in_the_bots_time_zone(services: Services) -> None:
    # Sunday 21:30 UTC is Monday 00:30 in Minsk: the event belongs to the new week.
    clock = Clock(datetime(2026, 11, 22, 21, 30, tzinfo=UTC))
    recorder = EventRecorder(services.events, clock, services.settings.tz)
    await recorder(EventKind.USER_STARTED, "late", locale="be")
    [event] = await services.events.between(date(2026, 11, 23), date(2026, 11, 24))
    assert event.occurred_on == date(2026, 11, 23)


async def test_the_report_is_sent_once_and_caught_up(settings: Settings) -> None:
    clock = Clock(datetime(2026, 11, 23, 5, 59, tzinfo=UTC))  # Monday 08:59 in Minsk
    services = await Services.open(settings, clock=clock)
    try:
        await history(services.events)
        await services.events.claim_report("2026-W46", MONDAY)  # sent by last Monday's run
        chat = ChatHarness(services)

        assert await due(services, chat) is None, "not before 09:00"
        clock.now = datetime(2026, 11, 23, 6, 1, tzinfo=UTC)
        assert await due(services, chat) == "2026-W47"
        assert await due(services, chat) is None, "not twice"
        sent = [c for c in chat.api.calls if getattr(c, "chat_id", None) == COORDINATORS]
        assert any(isinstance(c, methods.SendPhoto) for c in sent), "with its chart"
        [summary] = [c for c in sent if isinstance(c, methods.SendMessage)]
        assert summary.reply_markup is not None, "the CSV button rides on the summary"
    finally:
        await services.close()

    clock.now = datetime(2026, 12, 2, 12, tzinfo=UTC)  # a Wednesday; Monday was missed
    services = await Services.open(settings, clock=clock)
    try:
        chat = ChatHarness(services)
        label = await due(services, chat)
        assert label == "2026-W48", "the missed week goes out when the bot starts"
        label = await due(services, chat)
        assert label is None, "and a restart does not send W47 again"
    finally:
        await services.close()


async def test_a_failed_summary_is_retried_and_a_failed_chart_is_not(settings: Settings) -> None:
    clock = Clock(datetime(2026, 11, 23, 7, tzinfo=UTC))  # Monday 10:00 in Minsk
    services = await Services.open(settings, clock=clock)
    try:
        await services.events.claim_report("2026-W46", MONDAY)
        chat = ChatHarness(services)

        chat.api.fail_next(QueuedError(400, "Bad Request: chat not found", None, SendMessage))
        with pytest.raises(TelegramBadRequest):
            await due(services, chat)
        chat.api.fail_next(QueuedError(400, "Bad Request: file too big", None, SendPhoto))
        assert await due(services, chat) == "2026-W47", "the claim was given back: it goes now"
        calls = len(chat.api.calls)
        assert await due(services, chat) is None, "a failed chart does not resend the summary"
        assert len(chat.api.calls) == calls
    finally:
        await services.close()


async def test_a_restart_after_sending_does_not_send_again(settings: Settings) -> None:
    clock = Clock(datetime(2026, 11, 23, 7, tzinfo=UTC))  # Monday 10:00 in Minsk
    for expected in ("2026-W47", None):
        services = await Services.open(settings, clock=clock)
        try:
            await services.events.claim_report("2026-W46", MONDAY)
            assert await due(services, ChatHarness(services)) == expected
        finally:
            await services.close()
        clock.now += timedelta(hours=1)


async def test_a_shutdown_during_the_chart_keeps_the_report_sent(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def cancelled(*args: object) -> None:
        raise asyncio.CancelledError

    clock = Clock(datetime(2026, 11, 23, 7, tzinfo=UTC))
    services = await Services.open(settings, clock=clock)
    try:
        await services.events.claim_report("2026-W46", MONDAY)
        chat = ChatHarness(services)
        monkeypatch.setattr("flows.stats.router.send_chart", cancelled)
        with pytest.raises(asyncio.CancelledError):
            await due(services, chat)
        assert await services.events.report_claimed("2026-W47"), "the summary was out"
        assert await due(services, chat) is None
        assert len(chat.api.sent(SendMessage)) == 1
    finally:
        await services.close()


async def test_a_failure_before_the_summary_leaves_the_week_unclaimed(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object) -> None:
        raise KeyError("a bug while building")

    clock = Clock(datetime(2026, 11, 23, 7, tzinfo=UTC))
    services = await Services.open(settings, clock=clock)
    try:
        await services.events.claim_report("2026-W46", MONDAY)
        chat = ChatHarness(services)
        with monkeypatch.context() as patched:
            patched.setattr("flows.stats.router.build_report", broken)
            # As after a crash, no clean-up runs: the week must not have been claimed yet.
            patched.setattr(services.events, "unclaim_report", broken)
            with pytest.raises(KeyError):
                await due(services, chat)
        assert not await services.events.report_claimed("2026-W47")
        assert await due(services, chat) == "2026-W47", "the next pass sends it"
    finally:
        await services.close()


async def test_failures_back_off_up_to_an_hour() -> None:
    pauses: list[float] = []
    outcomes = iter([ValueError, ValueError, ValueError, None] + [ValueError] * 8)

    async def send() -> None:
        error = next(outcomes)
        if error is not None:
            raise error("no chat")

    async def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 12:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_reports(send, 60.0, sleep)
    assert pauses[:4] == [120, 240, 480, 60], "a success resets the pause"
    assert pauses[-1] == 3600 and max(pauses) == 3600


async def test_before_nine_on_monday_the_week_before_is_caught_up(settings: Settings) -> None:
    clock = Clock(datetime(2026, 11, 23, 5, tzinfo=UTC))  # Monday 08:00 in Minsk, first start
    services = await Services.open(settings, clock=clock)
    try:
        chat = ChatHarness(services)
        label = await due(services, chat)
        assert label == "2026-W46", "last Monday's report was never sent"
    finally:
        await services.close()


async def test_stats_is_refused_to_others_and_given_to_coordinators(services: Services) -> None:
    await history(services.events)
    chat = ChatHarness(services)
    chat.api.chat_members[700_000_001] = "left"  # not in the coordinators' chat
    calls = await chat.feed(chat.user(700_000_001, language_code="en").text("/stats"))
    [refused] = [c for c in calls if isinstance(c, methods.SendMessage)]
    assert "for coordinators only" in refused.text
    chat.api.chat_members[700_000_002] = "left"
    calls = await chat.feed(chat.user(700_000_002, language_code="en").text("/stats 2026-W47"))
    [refused] = [c for c in calls if isinstance(c, methods.SendMessage)]
    assert "for coordinators only" in refused.text

    calls = await chat.feed(chat.user(ADMIN, language_code="en").text("/stats 2026-W47"))
    [text] = [c for c in calls if isinstance(c, methods.SendMessage)]
    assert "Weekly report 2026-W47" in text.text
    [photo] = [c for c in calls if isinstance(c, methods.SendPhoto)]
    assert isinstance(photo.photo, BufferedInputFile)
    png = photo.photo.data
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 10_000 < len(png) < 1_000_000, "a chart of sensible size"

    calls = await chat.feed(chat.user(ADMIN, language_code="en").text("/stats csv 2026-W47"))
    [document] = [c for c in calls if isinstance(c, methods.SendDocument)]
    assert isinstance(document.document, BufferedInputFile)
    assert document.document.data.startswith("\ufeff".encode())

    for bad in ("/stats next week", "/stats 2026-W48", "/stats 0001-W01"):
        [usage] = await chat.feed(chat.user(ADMIN, language_code="en").text(bad))
        assert "Usage: /stats" in usage.text, "only past weeks: the current one is refused"


async def test_in_the_coordinators_chat_the_report_speaks_its_language(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, coordinators_chat_id=COORDINATORS, default_locale="en", coordinators_locale="be"
    )
    services = await Services.open(settings, clock=Clock(datetime(2026, 11, 25, 12, tzinfo=UTC)))
    try:
        chat = ChatHarness(services)
        asker = chat.user(700_000_009, language_code="ru")
        calls = await chat.feed(asker.text("/stats", chat_id=COORDINATORS, chat_type="supergroup"))
        [summary] = [c for c in calls if isinstance(c, SendMessage)]
        assert "Штотыднёвая справаздача" in summary.text, "the chat's language, not the asker's"
        calls = await chat.feed(asker.text("/stats", chat_type="private"))
        [summary] = [c for c in calls if isinstance(c, SendMessage)]
        assert "Недельный отчёт" in summary.text, "in private: the asker's own language"
    finally:
        await services.close()


async def test_stats_elsewhere_is_not_answered_and_members_may_ask_in_private(
    services: Services,
) -> None:
    chat = ChatHarness(services)
    calls = await chat.feed(
        chat.user(ADMIN).text("/stats", chat_id=-100_555_000, chat_type="supergroup")
    )
    assert not [c for c in calls if isinstance(c, SendMessage | SendPhoto)], "another group"
    chat.api.chat_members[700_000_011] = "restricted"
    calls = await chat.feed(chat.user(700_000_011, language_code="en").text("/stats"))
    assert any("Weekly report" in getattr(c, "text", "") for c in calls), "muted, still a member"


async def test_members_of_the_coordinators_chat_may_ask(services: Services) -> None:
    chat = ChatHarness(services)
    calls = await chat.feed(
        chat.user(700_000_009).text("/stats", chat_id=COORDINATORS, chat_type="supergroup")
    )
    assert any("Weekly report" in getattr(c, "text", "") for c in calls)


async def test_by_city_is_suppressed_too(services: Services) -> None:
    report = await weekly(services)
    naftan = await services.enterprises.get(2)
    assert naftan is not None
    assert f"By city: {naftan.city('en')} 5, other cities &lt;5" in report.text


async def test_without_matplotlib_the_text_still_goes_out(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_matplotlib(*args: object) -> bytes:
        raise ImportError("matplotlib")

    monkeypatch.setattr("flows.stats.chart._render", no_matplotlib)
    chat = ChatHarness(services)
    calls = await chat.feed(chat.user(ADMIN, language_code="en").text("/stats 2026-W47"))
    [text] = [c for c in calls if isinstance(c, methods.SendMessage)]
    assert "Weekly report" in text.text
    assert text.reply_markup is not None, "the CSV button rides on the text"
    assert not [c for c in calls if isinstance(c, methods.SendPhoto)]


async def test_the_chart_in_belarusian(services: Services, tmp_path: Path) -> None:
    from flows.stats.chart import render_chart
    from flows.stats.router import _titles

    report = await weekly(services, locale="be")
    with services.i18n.context(), services.i18n.use_locale("be"):
        png = await render_chart(report, _titles(report))
    assert png is not None and png.startswith(b"\x89PNG")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (900, 900), "9 by 9 inches at 100 dpi"
    assert 20_000 < len(png) < 500_000
    (tmp_path / "chart-be.png").write_bytes(png)
