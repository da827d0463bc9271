"""Keys that identify nobody without the secret.

A user is stored under ``HMAC-SHA256(secret, telegram_user_id)``; the chat id the bot needs to
write back is sealed with AES-GCM. Both subkeys are derived from one secret that lives outside
the database file, so a seized database alone names no one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.config import Settings

_NONCE_BYTES = 12
#: User keys remembered by Telegram id; past this many the memo starts afresh.
REMEMBERED_KEYS = 10_000


class KeyFileError(Exception):
    """The key file is missing, malformed or readable by others."""


class Identity:
    """Derives user keys and seals chat references under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the secret must be at least 32 bytes")
        # Separate subkeys, so that one use of the secret never helps attack another.
        self._user_key = hmac.new(secret, b"supolka/user-key/v1", hashlib.sha256).digest()
        self._storage_key = hmac.new(secret, b"supolka/fsm-key/v1", hashlib.sha256).digest()
        self._aead = AESGCM(hmac.new(secret, b"supolka/chat-ref/v1", hashlib.sha256).digest())
        self._user_keys: dict[int, str] = {}

    def user_key(self, telegram_user_id: int) -> str:
        """The only name a user has in the database: 64 hex characters.

        Asked several times an update (locale, message ids, flows): the last
        :data:`REMEMBERED_KEYS` are remembered, ids the process holds anyway while it serves them.
        """
        key = self._user_keys.get(telegram_user_id)
        if key is None:
            if len(self._user_keys) >= REMEMBERED_KEYS:
                self._user_keys.clear()
            key = hmac.new(
                self._user_key, str(telegram_user_id).encode(), hashlib.sha256
            ).hexdigest()
            self._user_keys[telegram_user_id] = key
        return key

    def key_check(self) -> str:
        """A value that identifies the secret without revealing it, kept in the database."""
        return hmac.new(self._storage_key, b"supolka/key-check/v1", hashlib.sha256).hexdigest()

    def storage_key(self, parts: str) -> str:
        """A keyed hash for FSM storage keys, which embed Telegram ids."""
        return hmac.new(self._storage_key, parts.encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt and authenticate; ``context`` binds the ciphertext to its row."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def open(self, sealed: bytes, context: bytes) -> bytes:
        """Decrypt what :meth:`seal` produced; raises ``InvalidTag`` on a wrong key or row."""
        return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context)

    def seal_chat(self, chat_id: int, user_key: str) -> bytes:
        """The encrypted reference to the chat where the bot writes to this user."""
        return self.seal(str(chat_id).encode(), user_key.encode())

    def open_chat(self, sealed: bytes, user_key: str) -> int | None:
        """The chat id, or None when the reference does not open under this secret."""
        try:
            return int(self.open(sealed, user_key.encode()))
        except (InvalidTag, ValueError):
            return None


def load_secret(settings: Settings) -> bytes:
    """The secret from ``SUPOLKA_SECRET_KEY``, or from the key file (created on first run)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _read_or_create_key_file(settings.key_file)


def _read_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        write_key_file(path, new_secret())
    return read_key_file(path)


def new_secret() -> str:
    """A fresh secret: 64 hex characters from the system's random source."""
    return secrets.token_hex(32)


def write_key_file(path: Path, secret: str) -> None:
    """Create a key file, mode 0600 from its first byte, and make it durable before returning."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite a key that appeared meanwhile.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_key_file(path: Path) -> bytes:
    """The secret in an existing key file, refused when others may read the file."""
    if not path.is_file():
        raise KeyFileError(f"key file {path} does not exist")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"key file {path} is readable by others (mode {mode:o}); run: chmod 600 {path}"
        )
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise KeyFileError(f"key file {path} holds fewer than 32 characters")
    return secret.encode()
