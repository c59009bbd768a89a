-- Entries: the timeline, per-team extensions, entries with their draft text, attachments,
-- frozen versions (receipts) and the status history.

-- The timeline as organizers last set it; without a row, the config's [timeline] applies.
CREATE TABLE timeline (
    id BIGINT PRIMARY KEY,
    registration_opens_at BIGINT NOT NULL,
    registration_closes_at BIGINT NOT NULL,
    submission_opens_at BIGINT NOT NULL,
    submission_deadline_at BIGINT NOT NULL,
    grace_ms BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT REFERENCES users (id)
);

CREATE TABLE team_extensions (
    team_id TEXT PRIMARY KEY REFERENCES teams (id),
    deadline_at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    granted_by TEXT NOT NULL REFERENCES users (id),
    granted_at BIGINT NOT NULL
);

CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id),
    problem_code TEXT NOT NULL REFERENCES problems (code),
    status TEXT NOT NULL,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    maturity TEXT,
    deployed_where TEXT NOT NULL,
    technologies TEXT NOT NULL,
    experience TEXT NOT NULL,
    demo_url TEXT NOT NULL,
    video_url TEXT NOT NULL,
    -- The last submitted version (0: never submitted) and whether it came in late.
    version BIGINT NOT NULL DEFAULT 0,
    late BIGINT NOT NULL DEFAULT 0,
    -- The draft differs from the last submitted version.
    changed_since_submit BIGINT NOT NULL DEFAULT 0,
    prize TEXT,
    status_reason TEXT,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    submitted_at BIGINT,
    UNIQUE (team_id, problem_code)
);
CREATE INDEX entries_problem ON entries (problem_code, status);
CREATE INDEX entries_status ON entries (status);

-- Files of an entry's draft. `frozen` once a submitted version lists the file: it is then kept
-- for good. A removed draft file that was never frozen is deleted with its row.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries (id),
    file_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES users (id),
    uploaded_at BIGINT NOT NULL,
    frozen BIGINT NOT NULL DEFAULT 0,
    removed_at BIGINT
);
CREATE INDEX attachments_entry ON attachments (entry_id);

-- Every submitted version, frozen: the canonical content (JSON text) and its SHA-256.
CREATE TABLE entry_versions (
    entry_id TEXT NOT NULL REFERENCES entries (id),
    version BIGINT NOT NULL,
    content TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    attachment_ids TEXT NOT NULL,
    submitted_at BIGINT NOT NULL,
    submitted_by TEXT NOT NULL REFERENCES users (id),
    late BIGINT NOT NULL,
    idempotency_key TEXT,
    PRIMARY KEY (entry_id, version)
);
CREATE UNIQUE INDEX entry_versions_idempotency ON entry_versions (entry_id, idempotency_key);

-- Every status change, in order.
CREATE TABLE entry_events (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries (id),
    at BIGINT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    reason TEXT,
    prize TEXT
);
CREATE INDEX entry_events_entry ON entry_events (entry_id, at);
