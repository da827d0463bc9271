"""Settings, read once from the environment and `.env` (prefix ``SUPOLKA_``) and passed down."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from redis.connection import parse_url

from bot import PROJECT_ROOT

Locale = Literal["ru", "be", "en"]
LOCALES: tuple[Locale, ...] = ("ru", "be", "en")

DEFAULT_API_URL = "https://api.telegram.org"
#: Long enough not to be guessed, within Telegram's alphabet and length for secret_token.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


def _split_ids(value: object) -> object:
    """Accept ``"1, 2,3"`` as well as a list: such lists are written by hand in `.env`."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Everything an operator can set. Every field is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="SUPOLKA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = DEFAULT_API_URL
    database_path: Path = PROJECT_ROOT / "data" / "supolka.sqlite3"
    console_database_path: Path = PROJECT_ROOT / "data" / "console.sqlite3"
    secret_key: SecretStr | None = None
    key_file: Path = PROJECT_ROOT / "data" / "supolka.key"
    default_locale: Locale = "ru"
    admin_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    volunteers_chat_id: int | None = None
    coordinators_chat_id: int | None = None
    timezone: str = "Europe/Minsk"
    retention_cases_days: int = Field(default=90, ge=1, le=3650)
    retention_circles_days: int = Field(default=180, ge=1, le=3650)
    retention_users_days: int = Field(default=365, ge=1, le=3650)
    retention_access_log_days: int = Field(default=365, ge=1, le=3650)
    throttle_per_minute: int = Field(default=20, ge=0, le=1000)
    guide_packs: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["by"])
    circle_threshold: int = Field(default=3, ge=2, le=100)
    invite_days: int = Field(default=14, ge=1, le=365)
    volunteer_hours: str = "09:00–21:00"
    take_reminder_minutes: int = Field(default=15, ge=1, le=1440)
    queue_notice_minutes: int = Field(default=60, ge=1, le=1440)
    reopen_days: int = Field(default=7, ge=0, le=90)
    report_k: int = Field(default=5, ge=2, le=100)
    coordinators_locale: Locale | None = None

    @field_validator("coordinators_locale", mode="before")
    @classmethod
    def _empty_locale_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def report_locale(self) -> Locale:
        """The language of the weekly report in the coordinators' chat."""
        return self.coordinators_locale or self.default_locale

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Webhook mode (`python -m bot webhook`): the public HTTPS address Telegram posts to, whose
    # path the server listens on; the address it listens on; the header Telegram must send.
    webhook_url: str | None = None
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    #: FSM state and event isolation in Redis, shared by several webhook instances.
    redis_url: SecretStr | None = None
    #: Reminders, retention, the weekly report: run by exactly one instance.
    background_jobs: bool = True

    @field_validator("bot_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        # `.env.example` ships `SUPOLKA_BOT_TOKEN=`; an empty value means "console simulator".
        return None if value in ("", None) else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        left, sep, right = value.get_secret_value().partition(":")
        if not (sep and left.isdigit() and right):
            raise ValueError("expected the form 123456789:ABC… given by @BotFather")
        return value

    @field_validator("secret_key", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return value

    @field_validator("webhook_url", "webhook_secret", "redis_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must start with https:// (Telegram posts to HTTPS only)")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token: 1–256 characters A–Z, a–z, 0–9, _ and -.
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "use 16–256 characters A-Z, a-z, 0-9, _ or - (try: openssl rand -hex 32)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        url = value.get_secret_value()
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        try:
            options = parse_url(url)  # type: ignore[no-untyped-call]
        except ValueError as error:  # a port that is not a number, an unknown option, …
            raise ValueError(f"cannot be read ({error})") from None
        if options.get("decode_responses"):
            raise ValueError("must not set decode_responses: conversation data is binary")
        return value

    @property
    def webhook_path(self) -> str:
        """The path of :attr:`webhook_url`, where the webhook server takes updates."""
        return urlsplit(self.webhook_url or "").path or "/"

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("admin_ids", "guide_packs", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_ids(value)

    @field_validator("guide_packs")
    @classmethod
    def _some_pack(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one guide pack, e.g. by")
        return value

    @field_validator("volunteers_chat_id", "coordinators_chat_id", mode="before")
    @classmethod
    def _empty_chat_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError("unknown time zone (use a name like Europe/Minsk)") from error
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SettingsError(Exception):
    """Settings could not be loaded; the message is one line per bad setting."""


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's report into short lines that name the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_input=False, include_url=False):
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            message = problem["msg"].removeprefix("Value error, ")
            lines.append(f"Invalid setting SUPOLKA_{field.upper()}: {message}")
        raise SettingsError("\n".join(lines)) from None
