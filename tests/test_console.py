"""The console simulator: the real dispatcher in a terminal, with no token and no network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bot import PROJECT_ROOT
from bot.app import Services, create_dispatcher
from bot.console import Console, ConsoleAPI, html_to_text
from tests.conftest import make_settings


def button(transcript: str, label: str) -> str:
    """The console command that presses the button with this label."""
    found = re.search(rf"\[(#\d+) {re.escape(label)}\]", transcript)
    assert found, f"no button {label!r}"
    return found.group(1)


async def _console(services: Services, output: list[str], lang: str = "en") -> Console:
    api = ConsoleAPI(output.append)
    return Console(
        create_dispatcher(services), api, services, user_id=555_000_111, language_code=lang
    )


async def test_typing_and_pressing_buttons(services: Services) -> None:
    output: list[str] = []
    console = await _console(services, output)

    assert await console.handle("/start")
    greeting = "".join(output)
    assert "Hello! This is Supolka." in greeting
    assert re.search(r"\[#\d+ 🔒 What the bot stores\]", greeting)
    assert "<b>" not in greeting, "HTML is rendered for the terminal"

    output.clear()
    assert await console.handle(button(greeting, "🌐 Language"))
    assert "edited" in output[0]
    assert "[#1 Беларуская]" in output[0]

    output.clear()
    assert await console.handle("#1")
    assert "Мова: Беларуская." in "".join(output)
    await console.close()


async def test_console_commands_and_mistakes(services: Services) -> None:
    output: list[str] = []
    console = await _console(services, output)
    assert await console.handle("#9")
    assert "no such button" in output[-1]
    assert await console.handle(":edit fixed")
    assert "send a message first" in output[-1]
    assert await console.handle("hello")
    assert await console.handle(":edit hello again")
    assert "I don't read edited messages" in output[-1]
    assert await console.handle(":sticker")
    assert "I can't do anything with this kind of message" in output[-1]
    assert await console.handle(":bogus")
    assert "unknown console command" in output[-1]
    assert await console.handle(":help")
    assert "#N" in output[-1]
    assert await console.handle("") is True
    assert await console.handle("/quit") is False
    await console.close()


def test_html_to_text() -> None:
    assert html_to_text("<b>Bold</b> &amp; <a href='https://x.org'>link</a>") == (
        "Bold & link (https://x.org)"
    )
    assert html_to_text("<b>Bold</b>", color=True) == "\033[1mBold\033[0m"


def test_make_run_without_a_token_starts_the_console(tmp_path: Path) -> None:
    """What `make run` does on a fresh machine: no token, so the console simulator."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "SUPOLKA_DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "SUPOLKA_CONSOLE_DATABASE_PATH": str(tmp_path / "console.sqlite3"),
        "SUPOLKA_KEY_FILE": str(tmp_path / "supolka.key"),
        "SUPOLKA_DEFAULT_LOCALE": "be",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        input="/start\n#9\n/quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[0] == (
        "No SUPOLKA_BOT_TOKEN set: starting the console simulator instead of Telegram."
    )
    assert "Вітаем! Гэта Суполка." in out
    assert "Як карыстацца Суполкай" in out, "the last menu button, ℹ️ Help, opened the help"
    assert (tmp_path / "console.sqlite3").exists()
    assert not (tmp_path / "bot.sqlite3").exists(), "the console keeps its own database"
    assert result.stderr == ""


async def test_the_weekly_report_shows_its_chart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, admin_ids=[555_000_111], default_locale="en")
    services = await Services.open(settings)
    output: list[str] = []
    console = await _console(services, output)
    try:
        assert await console.handle("/stats")
        shown = "".join(output)
        assert "Weekly report" in shown
        assert re.search(r"bot: \[photo: supolka-\d{4}-W\d\d\.png, \d+ KB\]", shown)
    finally:
        await console.close()
        await services.close()


async def test_wipe_and_forget_can_be_tried_by_hand(services: Services) -> None:
    """The console shows what /wipe deleted, and /forget asks, then forgets."""
    output: list[str] = []
    console = await _console(services, output)
    await console.handle("/start")
    output.clear()
    await console.handle("/wipe")
    assert "(the bot deleted messages 1, 2, 3)" in "".join(output)
    output.clear()
    await console.handle("/forget")
    await console.handle(button("".join(output), "🗑 Yes, delete my data"))
    assert "deleted everything it knew about you" in "".join(output)
    await console.close()
