-- Prepares the database bench/load built for bench/load.d/ceiling.sql (run once, after the
-- fixture is filed): a sequence for the ceiling's references, so that it takes no lock the
-- server takes (the server numbers each day from a counter row in a short commit of its own).
SET client_min_messages = warning;
DROP SEQUENCE IF EXISTS bench_ticket_reference;
CREATE SEQUENCE bench_ticket_reference;
