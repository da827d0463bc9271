-- Weekly reports already sent to the coordinators: sending is idempotent across restarts, and
-- a week missed while the bot was down is sent when it starts.
CREATE TABLE report_runs (
    week    TEXT PRIMARY KEY,   -- ISO week, e.g. 2026-W47
    sent_on TEXT NOT NULL
) WITHOUT ROWID;
