DROP TRIGGER tickets_load_delete;
DROP TRIGGER tickets_load_update;
DROP TRIGGER tickets_load_insert;
ALTER TABLE users DROP COLUMN open_tickets;
