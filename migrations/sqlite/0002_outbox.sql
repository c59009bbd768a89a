-- The mail outbox. Every message is written here, already rendered, in the same transaction as
-- the change that causes it; the dispatcher sends it later. status: queued | sending | sent |
-- failed. A 'sending' row belongs to lease_owner until lease_until, then any dispatcher may take it.
-- message_id is the unique left part of the Message-ID header (<message_id@sender domain>).
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    recipient_email TEXT NOT NULL,
    recipient_user_id TEXT,
    lang TEXT NOT NULL CHECK (lang IN ('vi', 'en')),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    text_body TEXT NOT NULL,
    html_body TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until INTEGER,
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    sent_at INTEGER
);
-- The dispatcher's claim: queued messages that are due (a range on next_attempt_at), and sending
-- ones whose lease may have expired (through outbox_status_created).
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- Organizer listings (newest first, optionally by status) and a person's notification history.
CREATE INDEX outbox_created ON outbox (created_at);
CREATE INDEX outbox_status_created ON outbox (status, created_at);
CREATE INDEX outbox_recipient_user ON outbox (recipient_user_id, created_at);
