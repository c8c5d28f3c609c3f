-- A session is what a sign-in starts: its refresh tokens (one family) and the access tokens
-- issued from them carry its id, so ending it ends them all.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX sessions_user ON sessions(user_id);

INSERT INTO sessions (id, user_id, created_at, revoked_at)
SELECT family_id, MIN(user_id), MIN(created_at),
       CASE WHEN COUNT(*) = COUNT(revoked_at) THEN MAX(revoked_at) END
FROM refresh_tokens GROUP BY family_id;

-- Access tokens issued before this moment are dead (password change or reset).
ALTER TABLE users ADD COLUMN credentials_changed_at TIMESTAMP;
