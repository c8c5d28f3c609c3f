-- Working days (issue 14). The calendar's exceptions to Monday-Friday, one row a day, shipped
-- with the State Council's arrangement for 2026 (published 2025-11-04); admins
-- replace a year through PUT /calendar/{year}.
CREATE TABLE calendar_days (
    date TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL
);
INSERT INTO calendar_days (date, kind, name) VALUES
    ('2026-01-01', 'holiday', '元旦'),
    ('2026-01-02', 'holiday', '元旦'),
    ('2026-01-03', 'holiday', '元旦'),
    ('2026-01-04', 'workday', '元旦调休上班'),
    ('2026-02-14', 'workday', '春节调休上班'),
    ('2026-02-15', 'holiday', '春节'),
    ('2026-02-16', 'holiday', '春节'),
    ('2026-02-17', 'holiday', '春节'),
    ('2026-02-18', 'holiday', '春节'),
    ('2026-02-19', 'holiday', '春节'),
    ('2026-02-20', 'holiday', '春节'),
    ('2026-02-21', 'holiday', '春节'),
    ('2026-02-22', 'holiday', '春节'),
    ('2026-02-23', 'holiday', '春节'),
    ('2026-02-28', 'workday', '春节调休上班'),
    ('2026-04-04', 'holiday', '清明节'),
    ('2026-04-05', 'holiday', '清明节'),
    ('2026-04-06', 'holiday', '清明节'),
    ('2026-05-01', 'holiday', '劳动节'),
    ('2026-05-02', 'holiday', '劳动节'),
    ('2026-05-03', 'holiday', '劳动节'),
    ('2026-05-04', 'holiday', '劳动节'),
    ('2026-05-05', 'holiday', '劳动节'),
    ('2026-05-09', 'workday', '劳动节调休上班'),
    ('2026-06-19', 'holiday', '端午节'),
    ('2026-06-20', 'holiday', '端午节'),
    ('2026-06-21', 'holiday', '端午节'),
    ('2026-09-20', 'workday', '国庆节调休上班'),
    ('2026-09-25', 'holiday', '中秋节'),
    ('2026-09-26', 'holiday', '中秋节'),
    ('2026-09-27', 'holiday', '中秋节'),
    ('2026-10-01', 'holiday', '国庆节'),
    ('2026-10-02', 'holiday', '国庆节'),
    ('2026-10-03', 'holiday', '国庆节'),
    ('2026-10-04', 'holiday', '国庆节'),
    ('2026-10-05', 'holiday', '国庆节'),
    ('2026-10-06', 'holiday', '国庆节'),
    ('2026-10-07', 'holiday', '国庆节'),
    ('2026-10-10', 'workday', '国庆节调休上班');

-- A deadline in working days instead of hours, when set.
ALTER TABLE categories ADD COLUMN sla_working_days INTEGER;

-- awaiting_since: when the clock stopped (awaiting_enterprise). warn_at: when the due_soon
-- warning falls due, set with every new due_at. warned_for / escalated_for: the due_at that was
-- warned about / escalated, so each happens once per deadline and a conditional update decides
-- which instance records it.
ALTER TABLE tickets ADD COLUMN awaiting_since TIMESTAMP;
ALTER TABLE tickets ADD COLUMN warn_at TIMESTAMP;
ALTER TABLE tickets ADD COLUMN warned_for TIMESTAMP;
ALTER TABLE tickets ADD COLUMN escalated_for TIMESTAMP;

CREATE TABLE ticket_extensions (
    id TEXT PRIMARY KEY NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    working_days INTEGER NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES users(id),
    decided_by TEXT REFERENCES users(id),
    decision_note TEXT,
    created_at TIMESTAMP NOT NULL,
    decided_at TIMESTAMP
);
CREATE INDEX ticket_extensions_ticket ON ticket_extensions(ticket_id, created_at, id);
-- At most one pending request per ticket, whatever races.
CREATE UNIQUE INDEX ticket_extensions_one_pending ON ticket_extensions(ticket_id) WHERE status = 'pending';

-- The open statuses gain awaiting_enterprise.
DROP INDEX tickets_open_due;
DROP INDEX tickets_department_open_due;
CREATE INDEX tickets_open_due ON tickets(due_at) WHERE status IN ('submitted', 'assigned', 'in_progress', 'awaiting_enterprise');
CREATE INDEX tickets_department_open_due ON tickets(department_id, due_at) WHERE status IN ('submitted', 'assigned', 'in_progress', 'awaiting_enterprise');
CREATE INDEX tickets_open_warn ON tickets(warn_at) WHERE status IN ('submitted', 'assigned', 'in_progress', 'awaiting_enterprise');

UPDATE tickets SET warn_at = created_at + (due_at - created_at) * 0.8;
