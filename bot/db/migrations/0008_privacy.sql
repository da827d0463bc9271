-- Ids of recent messages in private chats (the bot's and the user's), kept only so that /wipe
-- can delete them: Telegram allows that for 48 hours; rows of day D are purged early on day D+2.
-- Only the day is kept, like everywhere else.
CREATE TABLE recent_messages (
    user_key   TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    day        TEXT NOT NULL,              -- YYYY-MM-DD
    PRIMARY KEY (user_key, message_id)
) WITHOUT ROWID;
CREATE INDEX recent_messages_by_day ON recent_messages (day);

-- Telegram's numbers of the updates already handled, so that an update delivered again after a
-- crash is not handled twice. Numbers only; purged after two days.
CREATE TABLE handled_updates (
    update_id INTEGER PRIMARY KEY,
    day       TEXT NOT NULL
);
CREATE INDEX handled_updates_by_day ON handled_updates (day);

-- Workers a volunteer blocked stay blocked after /forget, but not forever.
CREATE INDEX blocked_by_day ON blocked_workers (blocked_on);
