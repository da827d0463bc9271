"""User keys, sealed chat references and the key file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.identity import Identity, KeyFileError, load_secret
from tests.conftest import make_settings


def test_user_keys_are_stable_and_secret_dependent() -> None:
    one, other = Identity(b"a" * 32), Identity(b"b" * 32)
    assert one.user_key(731904552) == one.user_key(731904552)
    assert one.user_key(731904552) != one.user_key(731904553)
    assert one.user_key(731904552) != other.user_key(731904552)
    assert len(one.user_key(1)) == 64
    assert "731904552" not in one.user_key(731904552)


def test_chat_references_open_only_with_the_same_secret_and_row() -> None:
    identity = Identity(b"a" * 32)
    key = identity.user_key(731904552)
    sealed = identity.seal_chat(731904552, key)
    assert b"731904552" not in sealed
    assert identity.open_chat(sealed, key) == 731904552
    assert identity.open_chat(sealed, identity.user_key(1)) is None  # moved to another row
    assert Identity(b"b" * 32).open_chat(sealed, key) is None
    assert identity.seal_chat(731904552, key) != sealed  # a fresh nonce every time


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Identity(b"short")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, key_file=tmp_path / "keys" / "supolka.key")
    first = load_secret(settings)
    mode = stat.S_IMODE(settings.key_file.stat().st_mode)
    assert mode == 0o600
    assert load_secret(settings) == first
    assert len(first) == 64


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    load_secret(settings)
    os.chmod(settings.key_file, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_secret(settings)


def test_short_key_file_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    settings.key_file.write_text("tooshort")
    os.chmod(settings.key_file, 0o600)
    with pytest.raises(KeyFileError, match="fewer than 32"):
        load_secret(settings)


def test_secret_from_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key="k" * 40)
    assert load_secret(settings) == b"k" * 40
    assert not settings.key_file.exists()


async def test_a_replaced_key_is_refused_at_start_up(tmp_path: Path) -> None:
    from bot.app import Services

    settings = make_settings(tmp_path)
    services = await Services.open(settings)
    await services.close()
    settings.key_file.unlink()  # lost, and a new one would be created silently
    with pytest.raises(KeyFileError, match="does not match the database"):
        await Services.open(settings)
