-- Hand-off cases between a worker and the volunteers. No message text is ever stored here:
-- messages are copied between the private chat and the volunteers' group.
CREATE TABLE cases (
    id                INTEGER PRIMARY KEY,          -- the case number volunteers see (#N)
    user_key          TEXT NOT NULL,
    locale            TEXT NOT NULL,
    topic             TEXT NOT NULL,                -- legal | safety | organising | other
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'taken', 'closed')),
    assignee          TEXT,                         -- the volunteer's key
    offered_to        TEXT,                         -- a transfer waiting to be accepted ('*': anyone)
    thread_id         INTEGER,                      -- forum topic in the volunteers' group
    card_message_id   INTEGER,                      -- the case card (routing without forum mode)
    enterprise_id     INTEGER,                      -- the enterprise the worker agreed to show
    -- Times to the minute while the case is open (waits, reminders); cleared at close.
    opened_at         TEXT,
    taken_at          TEXT,
    responded         INTEGER NOT NULL DEFAULT 0,   -- the volunteer has answered once
    reminded          INTEGER NOT NULL DEFAULT 0,   -- volunteers were pinged about the wait
    worker_told       INTEGER NOT NULL DEFAULT 0,   -- the worker was told it is still queued
    opened_on         TEXT NOT NULL,                -- YYYY-MM-DD
    closed_on         TEXT,                         -- YYYY-MM-DD, for reopening within 7 days
    rating            INTEGER
);
CREATE UNIQUE INDEX one_open_case ON cases (user_key) WHERE status != 'closed';
CREATE INDEX cases_by_thread ON cases (thread_id) WHERE thread_id IS NOT NULL;

-- Which group message belongs to which case, so that replies to relayed messages are routed.
CREATE TABLE case_messages (
    group_message_id INTEGER PRIMARY KEY,
    case_id          INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE
);

-- Volunteers by key: the alias workers see, and whether an admin granted the role.
CREATE TABLE volunteers (
    key     TEXT PRIMARY KEY,
    alias   TEXT,
    granted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Every volunteer action, for accountability: who (key), which case, what, which day. No text.
CREATE TABLE access_log (
    id            INTEGER PRIMARY KEY,
    volunteer_key TEXT NOT NULL,
    case_id       INTEGER,
    action        TEXT NOT NULL,
    day           TEXT NOT NULL
);
CREATE INDEX access_log_by_day ON access_log (day);

-- Workers a volunteer blocked from opening cases.
CREATE TABLE blocked_workers (
    user_key   TEXT PRIMARY KEY,
    blocked_on TEXT NOT NULL
) WITHOUT ROWID;
