"""The guide's screens: text from templates and packs, keyboards from keyboards.py."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from markupsafe import Markup

from bot.config import LOCALES
from bot.content import ContentError
from bot.content.guide import Pack
from bot.content.telegram_html import MESSAGE_LIMIT, html_problems, visible_length
from bot.db.guide import Checklist
from bot.templating import Templates
from flows.guide.context import long_date


def footer(pack: Pack, locale: str) -> str:
    """“As of 1 November 2026. Information, not legal advice.”"""
    text = pack.text(locale)
    # "1 ноября 2026 г." already ends with a period; the sentence adds its own.
    when = long_date(pack.as_of, pack.text_locale(locale)).rstrip(".")
    return _("As of {date}. {disclaimer}").format(date=when, disclaimer=text.disclaimer)


#: Rendered step screens: a pack never changes while the bot runs.
_STEP_SCREENS: dict[tuple[int, str, str, int], str] = {}


def step_screen(templates: Templates, pack: Pack, locale: str, index: int) -> str:
    key = (id(templates), pack.id, locale, index)
    screen = _STEP_SCREENS.get(key)
    if screen is None:
        screen = _STEP_SCREENS[key] = _render_step(templates, pack, locale, index)
    return screen


def _render_step(templates: Templates, pack: Pack, locale: str, index: int) -> str:
    step = pack.steps[index]
    text = pack.text(locale).steps[step.id]
    return templates.render(
        "guide/step.html.j2",
        title=Markup(text.title),  # pack HTML is checked at start-up
        position=_("Step {number} of {total}").format(number=index + 1, total=len(pack.steps)),
        body=Markup(text.body),
        sources=[
            (pack.sources[source_id], pack.source_title(source_id, locale))
            for source_id in step.sources
        ],
        footer=footer(pack, locale),
    )


def home_screen(templates: Templates, pack: Pack, locale: str, resume_index: int | None) -> str:
    text = pack.text(locale)
    resume_title = None
    if resume_index is not None:
        resume_title = Markup(text.steps[pack.steps[resume_index].id].title)
    return templates.render(
        "guide/home.html.j2",
        title=text.title,
        intro=Markup(text.intro),
        footer=footer(pack, locale),
        resume_number=(resume_index or 0) + 1,
        resume_title=resume_title,
    )


@dataclass(frozen=True)
class ChecklistLine:
    label: Markup
    done: bool


def checklist_screen(templates: Templates, pack: Pack, locale: str, checklist: Checklist) -> str:
    steps = pack.text(locale).steps
    items = [
        ChecklistLine(Markup(steps[item].checklist), item in checklist.done)
        for item in checklist.items
        if item in steps
    ]
    done = sum(1 for item in items if item.done)
    return templates.render(
        "guide/checklist.html.j2",
        items=items,
        progress=_("{done} of {total} done").format(done=done, total=len(items)),
    )


def question_screen(templates: Templates, pack: Pack, locale: str, index: int) -> str:
    question = pack.questions[index]
    return templates.render(
        "guide/question.html.j2",
        position=_("Question {number} of {total}").format(
            number=index + 1, total=len(pack.questions)
        ),
        text=pack.text(locale).questions[question.id].text,
    )


def check_screens(templates: Templates, i18n: I18n, packs: dict[str, Pack]) -> None:
    """Render every step of every pack in every language; a screen Telegram would refuse
    (bad HTML, over 4,096 characters) stops start-up with the pack, locale and step named."""
    for pack in packs.values():
        for locale in LOCALES:
            with i18n.context(), i18n.use_locale(locale):
                for index, step in enumerate(pack.steps):
                    screen = step_screen(templates, pack, locale, index)
                    where = f"data/guide/{pack.id}: {locale}: step '{step.id}'"
                    problems = html_problems(screen)
                    if problems:
                        raise ContentError(f"{where}: {'; '.join(problems)}")
                    length = visible_length(screen)
                    if length > MESSAGE_LIMIT:
                        raise ContentError(
                            f"{where}: the screen is {length} characters, over {MESSAGE_LIMIT}"
                        )
