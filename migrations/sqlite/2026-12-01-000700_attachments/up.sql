-- Files on tickets (optionally on one of their comments). The bytes live in the blob store
-- under their sha256; a row is written only once they are stored. Removing an attachment
-- deletes its row (the timeline keeps an attachment_removed event).
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    comment_id TEXT REFERENCES comments(id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    internal BOOLEAN NOT NULL DEFAULT FALSE,
    uploaded_by TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX attachments_ticket ON attachments(ticket_id, created_at, id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
