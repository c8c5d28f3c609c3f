-- Prepares the database bench/load built for bench/load.d/ceiling.sql (run once, after the
-- fixture is filed). The schema has no per-official open-ticket count yet, and no sequence for
-- references; the ceiling keeps both in tables of its own, prefixed bench_, so the server's
-- tables are written exactly as a filing writes them and nothing else changes.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_official_load;
CREATE TABLE bench_official_load (
    official_id   TEXT PRIMARY KEY REFERENCES users (id),
    department_id TEXT NOT NULL REFERENCES departments (id),
    active        BOOLEAN NOT NULL,
    open_tickets  INTEGER NOT NULL
);
INSERT INTO bench_official_load (official_id, department_id, active, open_tickets)
SELECT u.id, u.department_id, u.active,
       (SELECT count(*) FROM tickets t
         WHERE t.assignee_id = u.id AND t.status IN ('assigned', 'in_progress'))
  FROM users u
 WHERE u.role = 'official';
-- Not on open_tickets: bumping the count then stays a HOT update (no index entry to rewrite).
CREATE INDEX bench_official_load_department ON bench_official_load (department_id) WHERE active;
DROP SEQUENCE IF EXISTS bench_ticket_reference;
CREATE SEQUENCE bench_ticket_reference;
