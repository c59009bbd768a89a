-- Problem statements. The full statement is JSON text; the columns beside it serve filters and joins.
CREATE TABLE problems (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    field TEXT NOT NULL,
    problem_group TEXT NOT NULL,
    agency TEXT NOT NULL,
    title_vi TEXT NOT NULL,
    title_en TEXT NOT NULL,
    statement TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX problems_field ON problems (field);
