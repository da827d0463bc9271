-- Conversation state (aiogram FSM). `key` is a keyed hash of every StorageKey field, because
-- those fields hold Telegram ids; `data` is AES-GCM sealed JSON.
CREATE TABLE fsm_state (
    key        TEXT PRIMARY KEY,
    state      TEXT,
    data       BLOB,
    updated_on TEXT NOT NULL
) WITHOUT ROWID;
