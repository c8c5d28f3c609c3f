-- Each official's open workload (tickets assigned to them in an open status), kept by
-- triggers in the same transaction as every ticket change, so routing locks and reads one
-- row per official instead of locking the department and counting tickets. The status list
-- is TicketStatus::ASSIGNED_OPEN (a unit test holds it to the enum).
ALTER TABLE users ADD COLUMN open_tickets INTEGER NOT NULL DEFAULT 0;
UPDATE users u SET open_tickets = c.n
  FROM (SELECT assignee_id, COUNT(*) AS n FROM tickets t
         WHERE assignee_id IS NOT NULL AND t.status IN ('assigned', 'in_progress', 'awaiting_enterprise') GROUP BY assignee_id) c
 WHERE u.id = c.assignee_id;

CREATE FUNCTION tickets_track_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was TEXT;
    now_on TEXT;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.status IN ('assigned', 'in_progress', 'awaiting_enterprise') THEN was := OLD.assignee_id; END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.status IN ('assigned', 'in_progress', 'awaiting_enterprise') THEN now_on := NEW.assignee_id; END IF;
    END IF;
    IF was IS DISTINCT FROM now_on THEN
        -- One statement for both rows: a reassignment locks the two officials in one scan.
        UPDATE users SET open_tickets = open_tickets + CASE WHEN id = now_on THEN 1 ELSE -1 END
         WHERE id IN (was, now_on);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tickets_load_insert AFTER INSERT ON tickets
    FOR EACH ROW WHEN (NEW.assignee_id IS NOT NULL) EXECUTE FUNCTION tickets_track_load();
CREATE TRIGGER tickets_load_update AFTER UPDATE OF status, assignee_id ON tickets
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status
                       OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id)
    EXECUTE FUNCTION tickets_track_load();
CREATE TRIGGER tickets_load_delete AFTER DELETE ON tickets
    FOR EACH ROW WHEN (OLD.assignee_id IS NOT NULL) EXECUTE FUNCTION tickets_track_load();
