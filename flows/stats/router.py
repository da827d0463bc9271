"""/stats for coordinators, the CSV button, and the Monday report to the coordinators' chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberRestricted,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from bot.clock import Clock
from bot.config import Settings
from bot.content.guide import Pack
from bot.db.enterprises import EnterprisesRepo
from bot.db.events import EventsRepo
from bot.db.users import UsersRepo
from bot.filters import ButtonsOf, Command, CommandsOf
from bot.identity import Identity
from bot.stats import parse_week, week_label, week_start
from flows.stats.chart import render_chart
from flows.stats.report import Report, build_report

log = logging.getLogger(__name__)
#: The report goes out on Mondays at this time, in the bot's time zone.
SEND_AT = time(9, 0)
#: The longest pause between attempts after failures.
MAX_PAUSE = 3600.0


class StatsCB(CallbackData, prefix="stats1"):
    """The CSV of one week's report: ``week`` is its Monday as YYYYMMDD."""

    week: Annotated[int, Field(ge=0, lt=10**8)]


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(CommandsOf("stats"))
    router.callback_query.filter(ButtonsOf(StatsCB))
    router.message.register(cmd_stats, Command("stats"))
    router.callback_query.register(on_csv, StatsCB.filter())
    return router


async def is_coordinator(
    bot: Bot, settings: Settings, users: UsersRepo, identity: Identity, user_id: int
) -> bool:
    """An admin, someone granted the role, or a member of the coordinators' chat."""
    if user_id in settings.admin_ids:
        return True
    user = await users.get(identity.user_key(user_id))
    if user is not None and user.is_coordinator:
        return True
    if settings.coordinators_chat_id is None:
        return False
    try:
        member = await bot.get_chat_member(settings.coordinators_chat_id, user_id)
    except TelegramAPIError:
        return False
    if isinstance(member, ChatMemberRestricted):  # muted, say, but still in the chat
        return member.is_member
    return member.status in (
        ChatMemberStatus.CREATOR,
        ChatMemberStatus.ADMINISTRATOR,
        ChatMemberStatus.MEMBER,
    )


async def may_see_reports(
    chat_id: int,
    user_id: int,
    bot: Bot,
    settings: Settings,
    users: UsersRepo,
    identity: Identity,
) -> bool:
    """Anyone in the coordinators' chat (the report goes to all of them anyway); elsewhere a
    coordinator."""
    if chat_id == settings.coordinators_chat_id:
        return True
    return await is_coordinator(bot, settings, users, identity, user_id)


def _titles(report: Report) -> dict[str, str]:
    answered = report.response_median
    minutes = "—" if answered is None else str(round(answered / 60))
    return {
        "response": _("Median time to first response: {minutes} min").format(minutes=minutes),
        "users": _("New and active users, last 12 weeks"),
        "new": _("New users"),
        "active": _("Active users"),
        "funnel": _("Guide steps read this week"),
        "cases": _("Cases this week"),
        "opened": _("Cases opened"),
        "taken": _("Cases taken"),
        "closed": _("Cases closed"),
    }


def _csv_kb(report: Report) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("📄 CSV"), callback_data=StatsCB(week=int(report.week.strftime("%Y%m%d")))
    )
    return builder.as_markup()


def _csv_file(report: Report) -> BufferedInputFile:
    return BufferedInputFile(report.csv, filename=f"supolka-{report.label}.csv")


async def send_summary(bot: Bot, chat_id: int, report: Report) -> None:
    """The text with the CSV button: once it is out, the report counts as sent."""
    await bot.send_message(chat_id, report.text, reply_markup=_csv_kb(report))


async def send_chart(bot: Bot, chat_id: int, report: Report, chart: bytes) -> None:
    """The chart under the summary; a failure is logged, not retried, so a flaky upload never
    posts the same summary twice."""
    try:
        await bot.send_photo(
            chat_id, BufferedInputFile(chart, filename=f"supolka-{report.label}.png")
        )
    except TelegramAPIError as error:
        log.warning("the report's chart could not be sent: %s", type(error).__name__)


async def send_report(bot: Bot, chat_id: int, report: Report) -> None:
    """The summary, then the chart when it can be drawn."""
    chart = await render_chart(report, _titles(report))
    await send_summary(bot, chat_id, report)
    if chart is not None:
        await send_chart(bot, chat_id, report, chart)


def guide_step_order(packs: Mapping[str, Pack]) -> tuple[str, ...]:
    """Every pack's step ids in reading order, each once: the order of the funnel."""
    return tuple(dict.fromkeys(step.id for pack in packs.values() for step in pack.steps))


async def _report_for(
    monday: date,
    events: EventsRepo,
    enterprises: EnterprisesRepo,
    packs: Mapping[str, Pack],
    settings: Settings,
    locale: str,
) -> Report:
    """A week's report as asked for (call it inside ``i18n.use_locale(locale)``)."""
    return await build_report(
        events, enterprises, monday, settings.report_k, locale, guide_step_order(packs)
    )


def _locale_for(chat_id: int, settings: Settings, i18n: I18n) -> str:
    """The coordinators' chat reads reports in its own language; a private chat in the user's."""
    return (
        settings.report_locale if chat_id == settings.coordinators_chat_id else i18n.current_locale
    )


def last_full_week(now: datetime, settings: Settings) -> date:
    """The Monday of the last week that is over, in the bot's time zone."""
    return week_start(now.astimezone(settings.tz).date()) - timedelta(days=7)


async def cmd_stats(
    message: Message,
    command: CommandObject,
    bot: Bot,
    settings: Settings,
    users: UsersRepo,
    identity: Identity,
    events: EventsRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    i18n: I18n,
    clock: Clock,
) -> None:
    """/stats [2026-W47] [csv]: the report of the last full week, or of the one named."""
    user = message.from_user
    if user is None or not await may_see_reports(
        message.chat.id, user.id, bot, settings, users, identity
    ):
        await message.answer(_("The weekly report is for coordinators only."))
        return
    words = (command.args or "").split()
    want_csv = "csv" in (word.lower() for word in words)
    named = [word for word in words if word.lower() != "csv"]
    latest = last_full_week(clock(), settings)
    try:
        monday: date | None = parse_week(named[0]) if named else latest
    except (ValueError, OverflowError):
        monday = None
    # Only weeks that are over: a week in progress, asked for again and again, would show
    # almost live when something happened.
    if monday is None or monday > latest or monday.year < 2000:
        await message.answer(
            _("Usage: /stats, /stats 2026-W47, /stats csv or /stats csv 2026-W47 (a past week).")
        )
        return
    locale = _locale_for(message.chat.id, settings, i18n)
    with i18n.use_locale(locale):
        report = await _report_for(monday, events, enterprises, packs, settings, locale)
        if want_csv:
            await message.answer_document(_csv_file(report), caption=report.label)
        else:
            await send_report(bot, message.chat.id, report)


async def on_csv(
    callback: CallbackQuery,
    callback_data: StatsCB,
    bot: Bot,
    settings: Settings,
    users: UsersRepo,
    identity: Identity,
    events: EventsRepo,
    enterprises: EnterprisesRepo,
    packs: dict[str, Pack],
    i18n: I18n,
    clock: Clock,
) -> None:
    """The CSV of the report the button was under."""
    if callback.message is None or not await may_see_reports(
        callback.message.chat.id, callback.from_user.id, bot, settings, users, identity
    ):
        await callback.answer(_("The weekly report is for coordinators only."), show_alert=True)
        return
    try:
        text = str(callback_data.week)
        monday = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        if monday.weekday() != 0 or monday > last_full_week(clock(), settings):
            raise ValueError(text)
    except ValueError:
        await callback.answer(_("This button has expired. Send /start for a fresh menu."))
        return
    chat_id = callback.message.chat.id
    locale = _locale_for(chat_id, settings, i18n)
    with i18n.use_locale(locale):
        report = await _report_for(monday, events, enterprises, packs, settings, locale)
    await bot.send_document(chat_id, _csv_file(report), caption=report.label)
    await callback.answer()


def due_week(now: datetime, settings: Settings) -> date:
    """The Monday of the latest week whose report is due: last week's from Monday 09:00 on,
    the week before's until then."""
    last_monday = last_full_week(now, settings)
    sent_at = datetime.combine(last_monday + timedelta(days=7), SEND_AT, settings.tz)
    return last_monday if now >= sent_at else last_monday - timedelta(days=7)


async def send_due_report(
    bot: Bot,
    settings: Settings,
    i18n: I18n,
    events: EventsRepo,
    enterprises: EnterprisesRepo,
    clock: Clock,
    step_order: Sequence[str] = (),
) -> str | None:
    """Send the latest due report if it was not sent yet; returns its week.

    Idempotent (``report_runs``), and a catch-up: a bot that was down on Monday sends the
    missed report the first time this runs after starting. After a longer outage only the
    latest week goes out; older ones stay a ``/stats 2026-W47`` away.
    """
    chat_id = settings.coordinators_chat_id
    if chat_id is None:
        return None
    now = clock()
    monday = due_week(now, settings)
    label = week_label(monday)
    if await events.report_claimed(label):
        return None
    with i18n.context(), i18n.use_locale(settings.report_locale):
        report = await build_report(
            events, enterprises, monday, settings.report_k, settings.report_locale, step_order
        )
        chart = await render_chart(report, _titles(report))
        # Claimed only now, right before the summary goes: a crash while building or drawing
        # leaves the week unclaimed, and the next start sends it.
        try:
            if not await events.claim_report(label, now.astimezone(settings.tz).date()):
                return None
            await send_summary(bot, chat_id, report)
        except BaseException:  # an error, or a shutdown mid-send: the next pass tries again
            # Shielded: a second cancellation must not leave the week claimed but unsent.
            await asyncio.shield(events.unclaim_report(label))
            raise
        if chart is not None:
            await send_chart(bot, chat_id, report, chart)
    return label


async def run_reports(
    send: Callable[[], Awaitable[object]],
    interval: float = 60.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every minute, until cancelled: send the week's report when it is due. After a failure
    (the bot removed from the chat, say) the pause doubles, up to an hour, so a lasting fault
    costs a line in the log now and then rather than a report built every minute."""
    pause = interval
    while True:
        try:
            await send()
            pause = interval
        except Exception:
            log.exception("the weekly report could not be sent")  # redacted to file:line
            pause = min(pause * 2, MAX_PAUSE)
        await sleep(pause)
