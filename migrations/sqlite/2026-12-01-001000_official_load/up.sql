-- Each official's open workload (tickets assigned to them in an open status), kept by
-- triggers in the same transaction as every ticket change, so routing reads one row per
-- official instead of counting their tickets. The status list is TicketStatus::ASSIGNED_OPEN
-- (a unit test holds it to the enum).
ALTER TABLE users ADD COLUMN open_tickets INTEGER NOT NULL DEFAULT 0;
UPDATE users SET open_tickets = (SELECT COUNT(*) FROM tickets t WHERE t.assignee_id = users.id AND t.status IN ('assigned', 'in_progress', 'awaiting_enterprise'));

CREATE TRIGGER tickets_load_insert AFTER INSERT ON tickets
WHEN NEW.assignee_id IS NOT NULL AND NEW.status IN ('assigned', 'in_progress', 'awaiting_enterprise')
BEGIN
    UPDATE users SET open_tickets = open_tickets + 1 WHERE id = NEW.assignee_id;
END;

CREATE TRIGGER tickets_load_update AFTER UPDATE OF status, assignee_id ON tickets
WHEN (CASE WHEN OLD.status IN ('assigned', 'in_progress', 'awaiting_enterprise') THEN OLD.assignee_id END)
     IS NOT (CASE WHEN NEW.status IN ('assigned', 'in_progress', 'awaiting_enterprise') THEN NEW.assignee_id END)
BEGIN
    UPDATE users SET open_tickets = open_tickets - 1 WHERE id = OLD.assignee_id AND OLD.status IN ('assigned', 'in_progress', 'awaiting_enterprise');
    UPDATE users SET open_tickets = open_tickets + 1 WHERE id = NEW.assignee_id AND NEW.status IN ('assigned', 'in_progress', 'awaiting_enterprise');
END;

CREATE TRIGGER tickets_load_delete AFTER DELETE ON tickets
WHEN OLD.assignee_id IS NOT NULL AND OLD.status IN ('assigned', 'in_progress', 'awaiting_enterprise')
BEGIN
    UPDATE users SET open_tickets = open_tickets - 1 WHERE id = OLD.assignee_id;
END;
