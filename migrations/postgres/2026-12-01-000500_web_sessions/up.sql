-- Console sign-ins are rows of the refresh-token table (kind 'web'), so every revocation path
-- (sign-out, password change or reset, deactivation) ends them too. last_seen_at drives the
-- idle timeout.
ALTER TABLE refresh_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';
ALTER TABLE refresh_tokens ADD COLUMN last_seen_at TIMESTAMP;
