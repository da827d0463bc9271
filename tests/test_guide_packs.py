"""Guide packs: complete in every declared locale, within Telegram's limits, and a broken pack
stops start-up with one line that names the file and the step."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import pytest

from bot.app import Services
from bot.config import LOCALES
from bot.content import ContentError
from bot.content.guide import GUIDE_DIR, load_pack, load_packs
from bot.content.telegram_html import MESSAGE_LIMIT, html_problems, visible_length
from bot.i18n import create_i18n
from bot.templating import Templates
from flows.guide.screens import check_screens, step_screen
from tests.conftest import make_settings

ALL_PACKS = sorted(p.name for p in GUIDE_DIR.iterdir() if (p / "pack.toml").exists())


def test_the_belarus_pack_is_complete_in_three_languages() -> None:
    pack = load_pack(GUIDE_DIR / "by")
    assert set(pack.locales) == {"ru", "be", "en"}
    assert 10 <= len(pack.steps) <= 12
    assert pack.steps[0].id == "safety", "safety comes first"
    for locale in pack.locales:
        text = pack.texts[locale]
        assert "safety" in text.steps
        assert text.disclaimer


def test_no_language_is_a_copy_of_another() -> None:
    pack = load_pack(GUIDE_DIR / "by")
    for step in pack.steps:
        bodies = {pack.texts[locale].steps[step.id].body for locale in pack.locales}
        assert len(bodies) == len(pack.locales), f"step {step.id} repeats a language"


def test_the_second_pack_proves_the_format_is_not_belarusian() -> None:
    pack = load_pack(GUIDE_DIR / "uk")
    assert pack.country == "GB"
    assert pack.locales == ("en",)
    assert pack.text("be") is pack.texts["en"], "a locale the pack lacks falls back to English"


@pytest.mark.parametrize("pack_id", ALL_PACKS)
def test_every_step_renders_within_limits_in_every_language(pack_id: str) -> None:
    i18n = create_i18n("ru")
    templates = Templates(i18n)
    pack = load_pack(GUIDE_DIR / pack_id)
    for locale in LOCALES:
        with i18n.context(), i18n.use_locale(locale):
            for index, step in enumerate(pack.steps):
                screen = step_screen(templates, pack, locale, index)
                assert html_problems(screen) == [], (pack_id, locale, step.id)
                assert visible_length(screen) <= MESSAGE_LIMIT, (pack_id, locale, step.id)
                for source_id in step.sources:
                    assert html.escape(pack.sources[source_id].url) in screen
                assert ".." not in screen
    check_screens(templates, i18n, {pack.id: pack})  # the start-up check agrees


@pytest.mark.parametrize("pack_id", ALL_PACKS)
def test_every_source_is_dated_and_cited(pack_id: str) -> None:
    pack = load_pack(GUIDE_DIR / pack_id)
    cited = {source for step in pack.steps for source in step.sources}
    assert cited == set(pack.sources), "every source is used, every used source defined"


def _broken_copy(tmp_path: Path, pack_id: str = "by") -> Path:
    target = tmp_path / "guide" / pack_id
    shutil.copytree(GUIDE_DIR / pack_id, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "be.toml",
            "[steps.meeting]",
            "[steps.meeting_renamed]",
            "be.toml: step 'meeting': is missing",
        ),
        (
            "pack.toml",
            'sources = ["law-tu", "decree-2", "decree-4"]',
            'sources = ["law-tu", "nowhere"]',
            "pack.toml: step 'routes': source 'nowhere' is not defined",
        ),
        (
            "ru.toml",
            '[steps.safety]\ntitle = "',
            '[steps.safety]\ntitle = "<div>',
            "ru.toml: step 'safety': tag <div> is not allowed",
        ),
        (
            "en.toml",
            "<b>How to stay safe:</b>",
            "<b>How to stay safe:",
            "en.toml: step 'safety': ",
        ),
        ("en.toml", "Nobody creates", "Nobody & creates", "en.toml: step 'coworkers': a bare '&'"),
        (
            "pack.toml",
            'when = { fpb = ["yes", "unsure"] }',
            'when = { fpb = ["maybe"] }',
            "pack.toml: step 'leave_fpb': 'when' names unknown answers",
        ),
        (
            "en.toml",
            'options = { yes = "Yes", no = "No" }',
            'options = { yes = "Yes" }',
            "en.toml: question 'contact': options must be exactly",
        ),
        ("pack.toml", 'read_on = "2026-11"', 'read_on = "last year"', "read_on must be YYYY-MM"),
        (
            "pack.toml",
            'links = ["checklist"]',
            'links = ["chekclist"]',
            "pack.toml: step 'routes': unknown links ['chekclist']",
        ),
    ],
)
def test_a_broken_pack_names_the_file_and_the_step(
    tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    directory = _broken_copy(tmp_path)
    _edit(directory / file, old, new)
    with pytest.raises(ContentError, match=None) as raised:
        load_pack(directory)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_an_over_long_screen_is_caught_at_start_up(tmp_path: Path) -> None:
    directory = _broken_copy(tmp_path)
    _edit(directory / "be.toml", 'body = """', 'body = """' + "Вельмі доўгі тэкст. " * 220)
    pack = load_pack(directory)
    i18n = create_i18n("ru")
    with pytest.raises(ContentError, match=r"by: be: step 'safety': the screen is \d+ characters"):
        check_screens(Templates(i18n), i18n, {pack.id: pack})


def test_an_unknown_pack_in_the_settings_is_refused() -> None:
    with pytest.raises(ContentError, match="no such guide pack"):
        load_packs(["atlantis"])


async def test_start_up_refuses_a_broken_pack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = _broken_copy(tmp_path)
    _edit(directory / "be.toml", "[steps.rights]", "[steps.rights_gone]")
    monkeypatch.setattr("bot.content.guide.GUIDE_DIR", directory.parent)
    with pytest.raises(ContentError, match=r"be\.toml: step .rights.: is missing"):
        await Services.open(make_settings(tmp_path))
