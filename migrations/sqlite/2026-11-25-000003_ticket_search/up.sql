-- Substring search (`q`) on SQLite: an FTS5 trigram index over tickets.search_text, which is
-- written once when a ticket is filed (title and description never change).
CREATE VIRTUAL TABLE tickets_search USING fts5(ticket_id UNINDEXED, search_text, tokenize = 'trigram');
INSERT INTO tickets_search (ticket_id, search_text) SELECT id, search_text FROM tickets;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_search (ticket_id, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER tickets_search_update AFTER UPDATE OF search_text ON tickets BEGIN
    DELETE FROM tickets_search WHERE ticket_id = old.id;
    INSERT INTO tickets_search (ticket_id, search_text) VALUES (new.id, new.search_text);
END;
