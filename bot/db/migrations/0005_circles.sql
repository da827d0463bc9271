-- Anonymous circles of coworkers, one per enterprise. Members are known to each other only by a
-- pseudonym number ("Member 4"); messages are relayed, never stored.
CREATE TABLE circles (
    id               INTEGER PRIMARY KEY,
    enterprise_id    INTEGER NOT NULL UNIQUE REFERENCES enterprises (id),
    opened_on        TEXT NOT NULL,
    last_activity_on TEXT NOT NULL,
    next_pseudonym   INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE circle_members (
    circle_id  INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    user_key   TEXT NOT NULL,
    pseudonym  INTEGER NOT NULL,
    joined_on  TEXT NOT NULL,
    relay_on   INTEGER NOT NULL DEFAULT 0,  -- circle mode: what the member sends is relayed
    reveal     INTEGER NOT NULL DEFAULT 0,  -- shares contact with the others who share theirs
    status     TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left', 'removed')),
    PRIMARY KEY (circle_id, user_key),
    UNIQUE (circle_id, pseudonym)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON circle_members (user_key);
-- One workplace, so one active circle per person.
CREATE UNIQUE INDEX one_active_circle ON circle_members (user_key) WHERE status = 'active';

-- Invite links, for one person each: only a hash of the token is kept, so the database
-- cannot rebuild a link.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    circle_id  INTEGER NOT NULL REFERENCES circles (id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    uses       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX invites_by_circle ON invites (circle_id);
