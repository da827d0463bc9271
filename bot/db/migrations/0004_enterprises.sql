-- The enterprise directory (seeded from data/enterprises.csv), names users typed that are not in
-- it yet (pending, until volunteers approve or merge them), and who wants to find coworkers where.
CREATE TABLE enterprises (
    id         INTEGER PRIMARY KEY,
    slug       TEXT UNIQUE,                 -- the directory's id; NULL for a pending enterprise
    name_ru    TEXT NOT NULL,
    name_be    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    city_ru    TEXT NOT NULL DEFAULT '',
    city_be    TEXT NOT NULL DEFAULT '',
    city_en    TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT 'known' CHECK (status IN ('known', 'pending', 'merged')),
    merged_into INTEGER REFERENCES enterprises (id),
    created_on TEXT NOT NULL
);

-- Every name an enterprise is known by, as written and as its matching skeleton
-- (bot/matching.py); skeletons are recomputed from `raw` at start-up.
CREATE TABLE enterprise_aliases (
    skeleton      TEXT PRIMARY KEY,
    raw           TEXT NOT NULL,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX aliases_by_enterprise ON enterprise_aliases (enterprise_id);

-- One workplace per user: the user key, the enterprise, the day. Nothing else. (A rowid table:
-- the rowid keeps the order people agreed in, which numbers the circle's members.)
CREATE TABLE interests (
    user_key      TEXT PRIMARY KEY,
    enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
    created_on    TEXT NOT NULL
);
CREATE INDEX interests_by_enterprise ON interests (enterprise_id);
