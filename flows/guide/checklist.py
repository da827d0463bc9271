"""The personal checklist: a few questions, then the steps that apply, each with a tick."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.content.guide import Pack
from bot.db.guide import Checklist, GuideRepo
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf
from bot.templating import Templates
from flows.guide.callbacks import ChecklistAction, ChecklistCB
from flows.guide.context import current_pack
from flows.guide.keyboards import checklist_intro_kb, checklist_kb, question_kb
from flows.guide.screens import checklist_screen, question_screen
from flows.screens import show_screen
from flows.state import drop_data

#: Answers collect in the (sealed) conversation data until the last question is answered.
ANSWERS_KEY = "checklist_answers"


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(ChecklistCB))
    for action, handler in (
        (ChecklistAction.OPEN, on_open),
        (ChecklistAction.BEGIN, on_begin),
        (ChecklistAction.ANSWER, on_answer),
        (ChecklistAction.TICK, on_tick),
        (ChecklistAction.RESET, on_reset),
    ):
        router.callback_query.register(handler, ChecklistCB.filter(F.action == action))
    return router


async def _show_checklist_or_intro(
    callback: CallbackQuery,
    pack: Pack,
    checklist: Checklist | None,
    templates: Templates,
    locale: str,
) -> None:
    if checklist is None:
        text = templates.render("guide/checklist_intro.html.j2", intro=_intro(pack))
        await show_screen(callback, text, checklist_intro_kb())
    else:
        text = checklist_screen(templates, pack, locale, checklist)
        await show_screen(callback, text, checklist_kb(pack, locale, checklist))


def _intro(pack: Pack) -> str:
    count = len(pack.questions)
    return _(
        "Answer {count} short question, and you will get the list of steps that apply to you, "
        "in order, to tick off as you go.",
        "Answer {count} short questions, and you will get the list of steps that apply to you, "
        "in order, to tick off as you go.",
        count,
    ).format(count=count)


async def on_open(
    callback: CallbackQuery,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
) -> None:
    """The checklist if the user has one, else an invitation to answer the questions."""
    pack = await current_pack(user_key, guide, packs)
    checklist = await guide.checklist(user_key, pack.id)
    await _show_checklist_or_intro(callback, pack, checklist, templates, i18n.current_locale)


async def on_begin(
    callback: CallbackQuery,
    state: FSMContext,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
) -> None:
    """Start the questionnaire from the first question."""
    pack = await current_pack(user_key, guide, packs)
    await state.update_data({ANSWERS_KEY: {}})
    locale = i18n.current_locale
    await show_screen(
        callback, question_screen(templates, pack, locale, 0), question_kb(pack, locale, 0)
    )


async def on_answer(
    callback: CallbackQuery,
    callback_data: ChecklistCB,
    state: FSMContext,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
    record_event: EventRecorder,
    clock: Clock,
) -> None:
    """Record one answer; ask the next question, or build and show the checklist."""
    pack = await current_pack(user_key, guide, packs)
    locale = i18n.current_locale
    answers: dict[str, str] = dict((await state.get_data()).get(ANSWERS_KEY) or {})
    question = next((q for q in pack.questions if q.id == callback_data.item), None)
    if question is not None and callback_data.answer in question.options:
        answers[question.id] = callback_data.answer
    # Keep only answers this pack knows (a stale button from another pack adds nothing).
    answers = {q.id: answers[q.id] for q in pack.questions if q.id in answers}
    remaining = [n for n, q in enumerate(pack.questions) if q.id not in answers]
    if remaining:
        await state.update_data({ANSWERS_KEY: answers})
        index = remaining[0]
        await show_screen(
            callback,
            question_screen(templates, pack, locale, index),
            question_kb(pack, locale, index),
        )
        return
    checklist = Checklist(answers=answers, items=pack.checklist(answers))
    await guide.save_checklist(user_key, pack.id, checklist, clock().date())
    await drop_data(state, ANSWERS_KEY)
    await record_event(
        EventKind.CHECKLIST_BUILT, user_key, pack=pack.id, items=len(checklist.items)
    )
    await _show_checklist_or_intro(callback, pack, checklist, templates, locale)


async def on_tick(
    callback: CallbackQuery,
    callback_data: ChecklistCB,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
    record_event: EventRecorder,
    clock: Clock,
) -> None:
    """Tick an item off, or untick it; the change is saved at once."""
    pack = await current_pack(user_key, guide, packs)
    checklist = await guide.checklist(user_key, pack.id)
    if checklist is not None and callback_data.item in checklist.items:
        if callback_data.item in checklist.done:
            checklist.done.remove(callback_data.item)
        else:
            checklist.done.append(callback_data.item)
            # Which item was ticked would hint at the (sealed) answers: count it, nothing more.
            await record_event(EventKind.CHECKLIST_ITEM_DONE, user_key, pack=pack.id)
        await guide.save_checklist(user_key, pack.id, checklist, clock().date())
    await _show_checklist_or_intro(callback, pack, checklist, templates, i18n.current_locale)


async def on_reset(
    callback: CallbackQuery,
    state: FSMContext,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
    clock: Clock,
) -> None:
    """Forget the answers and the ticks, and start the questions again."""
    pack = await current_pack(user_key, guide, packs)
    await guide.save_checklist(user_key, pack.id, None, clock().date())
    await state.update_data({ANSWERS_KEY: {}})
    locale = i18n.current_locale
    await show_screen(
        callback, question_screen(templates, pack, locale, 0), question_kb(pack, locale, 0)
    )
