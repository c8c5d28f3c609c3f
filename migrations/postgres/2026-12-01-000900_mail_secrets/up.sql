-- Mail that carries a single-use link (password reset, verification, invitation) has its
-- body cleared once sent; sent mail is deleted after mail.retention_days.
ALTER TABLE outbox ADD COLUMN secret BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE status = 'sent';
