"""Reading the guide: its home screen, steps, contents, the end, and the choice of pack."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LinkPreviewOptions, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.clock import Clock
from bot.content.documents import DocumentTemplate
from bot.content.guide import Pack, Step
from bot.db.guide import GuideRepo
from bot.db.users import UsersRepo
from bot.events import EventKind, EventRecorder
from bot.filters import ButtonsOf, Command
from bot.identity import Identity
from bot.templating import Templates
from flows.guide.callbacks import (
    ChecklistAction,
    ChecklistCB,
    DocAction,
    DocCB,
    FaqAction,
    FaqCB,
    GuideAction,
    GuideCB,
)
from flows.guide.context import current_pack
from flows.guide.keyboards import (
    contents_kb,
    finished_kb,
    home_kb,
    packs_kb,
    short_label,
    step_kb,
)
from flows.guide.screens import home_screen, step_screen
from flows.handoff.callbacks import HelpAction, HelpCB
from flows.match.callbacks import MatchAction, MatchCB
from flows.onboarding.router import ensure_user
from flows.privacy.callbacks import PrivacyAction, PrivacyCB
from flows.screens import show_screen

#: Sources are links: a preview of the first one would bury the step under a web page card.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


_STEP_KEYBOARDS: dict[tuple[int, str, str, int], InlineKeyboardMarkup] = {}


def step_links(
    step: Step, documents: dict[str, DocumentTemplate], locale: str
) -> list[tuple[str, CallbackData]]:
    """Buttons a step adds under its text: its document, and links to other parts of the bot."""
    links: list[tuple[str, CallbackData]] = []
    document = documents.get(step.document or "")
    if document is not None:
        label = short_label("📄 " + document.text(locale).title)
        links.append((label, DocCB(action=DocAction.OPEN, kind=document.id)))
    available: dict[str, tuple[str, CallbackData]] = {
        "checklist": (_("✅ My checklist"), ChecklistCB(action=ChecklistAction.OPEN)),
        "documents": (_("📄 All documents"), DocCB(action=DocAction.LIST)),
        "faq": (_("❓ Questions and answers"), FaqCB(action=FaqAction.TOPICS)),
        "match": (_("👥 Find coworkers"), MatchCB(action=MatchAction.START)),
        "handoff": (_("💬 Talk to a volunteer"), HelpCB(action=HelpAction.START)),
        "safety": (_("🛡 Staying safe"), PrivacyCB(action=PrivacyAction.SAFETY)),
    }
    links += [available[target] for target in step.links if target in available]
    return links


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(ButtonsOf(GuideCB))
    router.message.register(cmd_guide, Command("guide"))
    router.callback_query.register(on_home, GuideCB.filter(F.action == GuideAction.HOME))
    router.callback_query.register(on_step, GuideCB.filter(F.action == GuideAction.STEP))
    router.callback_query.register(on_contents, GuideCB.filter(F.action == GuideAction.CONTENTS))
    router.callback_query.register(on_finish, GuideCB.filter(F.action == GuideAction.FINISH))
    router.callback_query.register(on_packs, GuideCB.filter(F.action == GuideAction.PACKS))
    router.callback_query.register(on_pack_chosen, GuideCB.filter(F.action == GuideAction.PACK))
    return router


async def _home(
    user_key: str, guide: GuideRepo, packs: dict[str, Pack], templates: Templates, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    pack = await current_pack(user_key, guide, packs)
    progress = await guide.get(user_key, pack.id)
    resume = pack.index(progress.step) if progress and progress.step else None
    text = home_screen(templates, pack, locale, resume)
    return text, home_kb(pack, resume, several_packs=len(packs) > 1)


async def cmd_guide(
    message: Message,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
) -> None:
    """The guide's home: what it is, and Start or Continue where the user stopped."""
    text, keyboard = await _home(user_key, guide, packs, templates, i18n.current_locale)
    await message.answer(text, reply_markup=keyboard, link_preview_options=NO_PREVIEW)


async def on_home(
    callback: CallbackQuery,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
) -> None:
    """The guide's home screen, from a button."""
    text, keyboard = await _home(user_key, guide, packs, templates, i18n.current_locale)
    await show_screen(callback, text, keyboard, link_preview_options=NO_PREVIEW)


async def on_step(
    callback: CallbackQuery,
    callback_data: GuideCB,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
    record_event: EventRecorder,
    clock: Clock,
    documents: dict[str, DocumentTemplate],
) -> None:
    """Show one step in place; a stale button (a step no longer in the pack) shows the current."""
    pack = await current_pack(user_key, guide, packs)
    index = pack.index(callback_data.arg)
    if index is None:
        progress = await guide.get(user_key, pack.id)
        index = (pack.index(progress.step) if progress and progress.step else None) or 0
    step = pack.steps[index]
    if await guide.view_step(user_key, pack.id, step.id, clock().date()):
        await record_event(EventKind.GUIDE_STARTED, user_key, pack=pack.id)
    # Counted without the user key: which steps someone read says something about them.
    await record_event(EventKind.GUIDE_STEP_VIEWED, None, pack=pack.id, step=step.id)
    locale = i18n.current_locale
    text = step_screen(templates, pack, locale, index)
    key = (id(documents), pack.id, locale, index)
    keyboard = _STEP_KEYBOARDS.get(key)
    if keyboard is None:  # built once per step and language: building deep-copies buttons
        keyboard = _STEP_KEYBOARDS[key] = step_kb(pack, index, step_links(step, documents, locale))
    await show_screen(callback, text, keyboard, link_preview_options=NO_PREVIEW)


async def on_contents(
    callback: CallbackQuery,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
) -> None:
    """Every step of the pack as a button."""
    pack = await current_pack(user_key, guide, packs)
    locale = i18n.current_locale
    text = templates.render("guide/contents.html.j2", title=pack.text(locale).title)
    await show_screen(callback, text, contents_kb(pack, locale))


async def on_finish(
    callback: CallbackQuery,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    record_event: EventRecorder,
    clock: Clock,
) -> None:
    """The end of the guide: suggest the checklist and the documents."""
    pack = await current_pack(user_key, guide, packs)
    await guide.view_step(user_key, pack.id, pack.steps[-1].id, clock().date())
    if await guide.complete(user_key, pack.id, clock().date()):
        await record_event(EventKind.GUIDE_COMPLETED, user_key, pack=pack.id)
    await show_screen(callback, templates.render("guide/finished.html.j2"), finished_kb())


async def on_packs(callback: CallbackQuery, packs: dict[str, Pack], i18n: I18n) -> None:
    """The enabled packs, when there are several (one per country or jurisdiction)."""
    await show_screen(
        callback, _("Choose the country of your workplace:"), packs_kb(packs, i18n.current_locale)
    )


async def on_pack_chosen(
    callback: CallbackQuery,
    callback_data: GuideCB,
    user_key: str,
    guide: GuideRepo,
    packs: dict[str, Pack],
    templates: Templates,
    i18n: I18n,
    users: UsersRepo,
    identity: Identity,
    record_event: EventRecorder,
    clock: Clock,
) -> None:
    """Switch to another pack (remembered with the user) and show its home screen."""
    if callback_data.arg in packs and callback.message is not None:
        chat_id = callback.message.chat.id
        await ensure_user(chat_id, user_key, users, identity, record_event, i18n, clock)
        await guide.choose_pack(user_key, callback_data.arg)
    text, keyboard = await _home(user_key, guide, packs, templates, i18n.current_locale)
    await show_screen(callback, text, keyboard, link_preview_options=NO_PREVIEW)
