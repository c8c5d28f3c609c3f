-- The trend counts resolutions and closures per period by their own timestamps.
CREATE INDEX tickets_resolved_at ON tickets(resolved_at);
CREATE INDEX tickets_closed_at ON tickets(closed_at);
