DROP INDEX tickets_closed_at;
DROP INDEX tickets_resolved_at;
