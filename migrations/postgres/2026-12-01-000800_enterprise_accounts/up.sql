-- Enterprise accounts: the district's review of new enterprises (with the reason of the last
-- decision, shown to its users), verified emails, and colleagues under owners.
-- Everyone who exists today is trusted as before: verified, and an enterprise's user its owner.
ALTER TABLE enterprises ADD COLUMN status_reason TEXT;
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN enterprise_role TEXT;
UPDATE users SET email_verified = TRUE;
UPDATE users SET enterprise_role = 'owner' WHERE role = 'enterprise';

CREATE TABLE enterprise_events (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    kind TEXT NOT NULL,
    actor_id TEXT REFERENCES users(id),
    from_status TEXT,
    to_status TEXT,
    note TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX enterprise_events_enterprise ON enterprise_events(enterprise_id, created_at, id);

-- Each kind of emailed token has its own table, so one can never be spent as another.
CREATE TABLE email_verifications (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX email_verifications_user ON email_verifications(user_id);

CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises(id),
    email TEXT NOT NULL,
    name TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT NOT NULL REFERENCES users(id),
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX invitations_enterprise ON invitations(enterprise_id, created_at, id);
CREATE INDEX invitations_email ON invitations(email);
