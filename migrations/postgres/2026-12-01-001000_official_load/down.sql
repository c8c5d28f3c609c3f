DROP TRIGGER tickets_load_delete ON tickets;
DROP TRIGGER tickets_load_update ON tickets;
DROP TRIGGER tickets_load_insert ON tickets;
DROP FUNCTION tickets_track_load();
ALTER TABLE users DROP COLUMN open_tickets;
