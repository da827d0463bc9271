"""Settings: defaults, parsing, and one clear line per invalid setting."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.config import DEFAULT_API_URL, Settings, SettingsError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)
    assert settings.bot_token is None
    assert settings.telegram_api_url == DEFAULT_API_URL
    assert settings.database_path == PROJECT_ROOT / "data" / "supolka.sqlite3"
    assert settings.timezone == "Europe/Minsk"
    assert settings.admin_ids == []


def test_values_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPOLKA_BOT_TOKEN", "123456:ABC-def")
    monkeypatch.setenv("SUPOLKA_TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    monkeypatch.setenv("SUPOLKA_ADMIN_IDS", "11111, 22222")
    monkeypatch.setenv("SUPOLKA_VOLUNTEERS_CHAT_ID", "-1001234")
    monkeypatch.setenv("SUPOLKA_COORDINATORS_CHAT_ID", "")
    monkeypatch.setenv("SUPOLKA_DEFAULT_LOCALE", "be")
    settings = load_settings(_env_file=None)
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123456:ABC-def"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"
    assert settings.admin_ids == [11111, 22222]
    assert settings.volunteers_chat_id == -1001234
    assert settings.coordinators_chat_id is None
    assert settings.default_locale == "be"


def test_values_from_a_dotenv_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("SUPOLKA_TIMEZONE=Europe/Warsaw\nSUPOLKA_BOT_TOKEN=\n")
    settings = load_settings()  # the tests run in tmp_path, so this reads tmp_path/.env
    assert settings.timezone == "Europe/Warsaw"
    assert settings.bot_token is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SUPOLKA_BOT_TOKEN", "not-a-token"),
        ("SUPOLKA_TELEGRAM_API_URL", "api.telegram.org"),
        ("SUPOLKA_SECRET_KEY", "short"),
        ("SUPOLKA_DEFAULT_LOCALE", "de"),
        ("SUPOLKA_ADMIN_IDS", "12,abc"),
        ("SUPOLKA_VOLUNTEERS_CHAT_ID", "the volunteers"),
        ("SUPOLKA_TIMEZONE", "Mars/Olympus"),
        ("SUPOLKA_RETENTION_CASES_DAYS", "0"),
        ("SUPOLKA_RETENTION_USERS_DAYS", "x"),
        ("SUPOLKA_THROTTLE_PER_MINUTE", "-1"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    [line] = str(raised.value).splitlines()
    assert line.startswith(f"Invalid setting {variable}:")
    if variable in ("SUPOLKA_BOT_TOKEN", "SUPOLKA_SECRET_KEY"):
        assert value not in line, "a secret is never echoed"


def test_start_up_with_an_invalid_setting_prints_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
            "SUPOLKA_TIMEZONE": "Nowhere/Land",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Invalid setting SUPOLKA_TIMEZONE: unknown time zone (use a name like Europe/Minsk)"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_start_up_with_an_unknown_guide_pack_prints_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_ROOT),
            "SUPOLKA_GUIDE_PACKS": "atlantis",
            "SUPOLKA_KEY_FILE": str(tmp_path / "key"),
            "SUPOLKA_CONSOLE_DATABASE_PATH": str(tmp_path / "console.sqlite3"),
        },
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Cannot start: data/guide/atlantis: no such guide pack (SUPOLKA_GUIDE_PACKS)"
    ]


def test_env_example_documents_every_setting_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    documented = {
        line.split("=", 1)[0]
        for line in example.splitlines()
        if line.startswith("SUPOLKA_") and "=" in line
    }
    expected = {f"SUPOLKA_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected
    (tmp_path / ".env").write_text(example, encoding="utf-8")
    settings = load_settings()  # the example, copied as is, is a valid configuration
    assert settings.bot_token is None
