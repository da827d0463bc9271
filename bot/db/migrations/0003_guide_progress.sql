-- Where each user is in each guide pack, and their personal checklist. The checklist holds
-- questionnaire answers (e.g. membership of a union), so it is AES-GCM sealed, bound to the
-- user key and pack.
CREATE TABLE guide_progress (
    user_key   TEXT NOT NULL,
    pack       TEXT NOT NULL,
    step       TEXT,                       -- the last step viewed; NULL before the first
    completed  INTEGER NOT NULL DEFAULT 0, -- reached the end once
    checklist  BLOB,                       -- sealed JSON: {"answers", "items", "done"}
    updated_on TEXT NOT NULL,              -- YYYY-MM-DD
    PRIMARY KEY (user_key, pack)
) WITHOUT ROWID;

-- The pack a user reads, when several are enabled; NULL means the default pack.
ALTER TABLE users ADD COLUMN guide_pack TEXT;
