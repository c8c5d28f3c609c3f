DROP INDEX outbox_sent_at;
ALTER TABLE outbox DROP COLUMN secret;
