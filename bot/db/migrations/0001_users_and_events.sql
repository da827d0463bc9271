-- Users are keyed by HMAC-SHA256(secret, telegram user id); the chat id is AES-GCM sealed.
-- No username, name, phone number or message text is ever stored.
CREATE TABLE users (
    key            TEXT PRIMARY KEY,          -- 64 hex characters
    chat_ref       BLOB NOT NULL,             -- nonce || AES-GCM(chat id), bound to key
    locale         TEXT,                      -- 'ru' | 'be' | 'en', NULL until chosen
    created_on     TEXT NOT NULL,             -- YYYY-MM-DD: day precision on purpose
    last_seen_on   TEXT NOT NULL,             -- YYYY-MM-DD
    is_active      INTEGER NOT NULL DEFAULT 1, -- 0 once Telegram says the user blocked the bot
    is_volunteer   INTEGER NOT NULL DEFAULT 0,
    is_coordinator INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- The one source of the weekly statistics. `fields` holds small JSON facts (a step id,
-- a locale, a score, a duration in seconds), never free text. Only the day is kept, in the
-- bot's time zone: times of day could be matched against messages on a seized phone.
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_key    TEXT,                         -- NULL when a count needs no person, or forgotten
    occurred_on TEXT NOT NULL,                -- YYYY-MM-DD
    fields      TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_day ON events (occurred_on, kind);
CREATE INDEX events_by_user ON events (user_key) WHERE user_key IS NOT NULL;

-- Facts about this database itself. `key_check` = HMAC(secret, constant): start-up refuses a
-- key that is not the one this database was written with (a lost or replaced key file would
-- otherwise make the bot silently forget everyone). It reveals nothing about the key.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
