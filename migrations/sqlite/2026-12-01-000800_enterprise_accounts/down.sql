DROP TABLE invitations;
DROP TABLE email_verifications;
DROP TABLE enterprise_events;
ALTER TABLE users DROP COLUMN enterprise_role;
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE enterprises DROP COLUMN status_reason;
