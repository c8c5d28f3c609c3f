ALTER TABLE users DROP COLUMN credentials_changed_at;
DROP TABLE sessions;
