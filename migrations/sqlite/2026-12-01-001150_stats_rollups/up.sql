-- Statistics from rollups: additive figures per local filing day × department × category ×
-- assignee, kept by triggers in the same transaction as every change of a ticket, its
-- comments (site visits) and its extensions, so no code path can forget them. `src/stats/
-- rollup.rs` reads them; `qifu stats rebuild` recomputes them (and must, after the time
-- zone changes). Missing department and assignee are '' here (NULLs would never conflict).

-- The zone the days below were cut in; queries fall back to the tickets when it is not the
-- configured one.
CREATE TABLE stats_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
INSERT INTO stats_state (key, value) VALUES ('time_zone', 'Asia/Shanghai');

-- The UTC instant each local day starts, 2000-01-01 to 2199-12-31: triggers cannot read the
-- configuration, so the day of an instant is the latest start at or before it. Filled here
-- for the default zone (UTC+8 throughout), by `qifu stats rebuild` for any other.
CREATE TABLE stats_days (starts_at TIMESTAMP PRIMARY KEY NOT NULL);
WITH RECURSIVE d(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM d WHERE n < 73048)
INSERT INTO stats_days (starts_at) SELECT datetime('1999-12-31 16:00:00', '+' || n || ' days') FROM d;

-- Log-scale buckets of resolution time for the median and p90: bucket 0 is under 36 s
-- (0.01 h), bucket b ≥ 1 starts at 36 s × 1.01^(b−1), so a bucket spans 1 %. Doubles
-- multiplied in order, truncated to whole microseconds: `stats::rollup` reads this table.
CREATE TABLE stats_buckets (lower_us BIGINT PRIMARY KEY NOT NULL, bucket INTEGER NOT NULL);
WITH RECURSIVE b(bucket, lower) AS (
    SELECT 1, CAST(36000000 AS REAL) UNION ALL SELECT bucket + 1, lower * 1.01 FROM b WHERE bucket < 2000)
INSERT INTO stats_buckets (lower_us, bucket) SELECT 0, 0 UNION ALL SELECT CAST(lower AS INTEGER), bucket FROM b;

CREATE TABLE stats_daily (
    day TIMESTAMP NOT NULL,
    department_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    total BIGINT NOT NULL,
    submitted BIGINT NOT NULL,
    assigned BIGINT NOT NULL,
    in_progress BIGINT NOT NULL,
    resolved BIGINT NOT NULL,
    closed BIGINT NOT NULL,
    cancelled BIGINT NOT NULL,
    awaiting_enterprise BIGINT NOT NULL,
    extended BIGINT NOT NULL,
    timed BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    responded BIGINT NOT NULL,
    accepted BIGINT NOT NULL,
    first_response_us BIGINT NOT NULL,
    resolution_us BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    rating_sum BIGINT NOT NULL,
    r1 BIGINT NOT NULL,
    r2 BIGINT NOT NULL,
    r3 BIGINT NOT NULL,
    r4 BIGINT NOT NULL,
    r5 BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    ever_resolved BIGINT NOT NULL,
    site_visits BIGINT NOT NULL,
    PRIMARY KEY (day, department_id, category_id, assignee_id)
) WITHOUT ROWID;

-- Resolution times per bucket, with their sum: a percentile is the mean of its bucket.
CREATE TABLE stats_hours (
    day TIMESTAMP NOT NULL,
    department_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    assignee_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    n BIGINT NOT NULL,
    sum_us BIGINT NOT NULL,
    -- Bucket first: a histogram over many days is summed in key order, without sorting.
    PRIMARY KEY (bucket, day, department_id, category_id, assignee_id)
) WITHOUT ROWID;

-- A breakdown's histograms are summed per group in the order of these covering indexes,
-- without sorting every row (PostgreSQL hashes instead).
CREATE INDEX stats_hours_department ON stats_hours(department_id, bucket, day, category_id, n, sum_us);
CREATE INDEX stats_hours_category ON stats_hours(category_id, bucket, day, department_id, n, sum_us);
CREATE INDEX stats_hours_assignee ON stats_hours(assignee_id, bucket, day, department_id, category_id, n, sum_us);

-- Resolutions (kind 1) and closures (kind 2) per local day they happened and the filing day
-- of their ticket, for the trend (its filter is on the filing day).
CREATE TABLE stats_events (
    kind INTEGER NOT NULL,
    day TIMESTAMP NOT NULL,
    created_day TIMESTAMP NOT NULL,
    department_id TEXT NOT NULL,
    category_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, day, created_day, department_id, category_id)
) WITHOUT ROWID;

-- SQLite has no functions, so a view's INSTEAD OF trigger serves as one: inserting a row adds
-- `sign` times the ticket's contribution, plus `extended` and `site_visits` as given.
CREATE VIEW stats_ticket_delta AS
SELECT 0 AS sign, created_at, department_id, category_id, assignee_id, status, accepted_at,
       resolved_at, closed_at, due_at, rating, auto_closed, reopen_count,
       0 AS extended, 0 AS site_visits
  FROM tickets WHERE 0;

CREATE TRIGGER stats_ticket_delta_apply INSTEAD OF INSERT ON stats_ticket_delta
BEGIN
    INSERT INTO stats_daily VALUES (
        COALESCE((SELECT MAX(starts_at) FROM stats_days WHERE starts_at <= NEW.created_at), '1900-01-01 00:00:00'),
        COALESCE(NEW.department_id, ''), NEW.category_id, COALESCE(NEW.assignee_id, ''),
        NEW.sign,
        NEW.sign * (NEW.status = 'submitted'),
        NEW.sign * (NEW.status = 'assigned'),
        NEW.sign * (NEW.status = 'in_progress'),
        NEW.sign * (NEW.status = 'resolved'),
        NEW.sign * (NEW.status = 'closed'),
        NEW.sign * (NEW.status = 'cancelled'),
        NEW.sign * (NEW.status = 'awaiting_enterprise'),
        NEW.extended,
        NEW.sign * (NEW.resolved_at IS NOT NULL),
        NEW.sign * COALESCE(NEW.resolved_at <= NEW.due_at, 0),
        NEW.sign * (NEW.accepted_at IS NOT NULL AND NEW.status <> 'cancelled'),
        NEW.sign * (NEW.accepted_at IS NOT NULL),
        NEW.sign * COALESCE((unixepoch(NEW.accepted_at) - unixepoch(NEW.created_at)) * 1000000
            + CAST(round((CAST('0' || substr(NEW.accepted_at, 20) AS REAL)
                          - CAST('0' || substr(NEW.created_at, 20) AS REAL)) * 1000000) AS INTEGER), 0),
        NEW.sign * COALESCE((unixepoch(NEW.resolved_at) - unixepoch(NEW.created_at)) * 1000000
            + CAST(round((CAST('0' || substr(NEW.resolved_at, 20) AS REAL)
                          - CAST('0' || substr(NEW.created_at, 20) AS REAL)) * 1000000) AS INTEGER), 0),
        NEW.sign * (NEW.rating IS NOT NULL AND NOT NEW.auto_closed),
        NEW.sign * (CASE WHEN NOT NEW.auto_closed THEN COALESCE(NEW.rating, 0) ELSE 0 END),
        NEW.sign * (COALESCE(NEW.rating, 0) = 1 AND NOT NEW.auto_closed),
        NEW.sign * (COALESCE(NEW.rating, 0) = 2 AND NOT NEW.auto_closed),
        NEW.sign * (COALESCE(NEW.rating, 0) = 3 AND NOT NEW.auto_closed),
        NEW.sign * (COALESCE(NEW.rating, 0) = 4 AND NOT NEW.auto_closed),
        NEW.sign * (COALESCE(NEW.rating, 0) = 5 AND NOT NEW.auto_closed),
        NEW.sign * (NEW.reopen_count > 0),
        NEW.sign * (NEW.resolved_at IS NOT NULL OR NEW.reopen_count > 0),
        NEW.site_visits)
    ON CONFLICT (day, department_id, category_id, assignee_id) DO UPDATE SET
        total = total + excluded.total,
        submitted = submitted + excluded.submitted,
        assigned = assigned + excluded.assigned,
        in_progress = in_progress + excluded.in_progress,
        resolved = resolved + excluded.resolved,
        closed = closed + excluded.closed,
        cancelled = cancelled + excluded.cancelled,
        awaiting_enterprise = awaiting_enterprise + excluded.awaiting_enterprise,
        extended = extended + excluded.extended,
        timed = timed + excluded.timed,
        on_time = on_time + excluded.on_time,
        responded = responded + excluded.responded,
        accepted = accepted + excluded.accepted,
        first_response_us = first_response_us + excluded.first_response_us,
        resolution_us = resolution_us + excluded.resolution_us,
        rated = rated + excluded.rated,
        rating_sum = rating_sum + excluded.rating_sum,
        r1 = r1 + excluded.r1,
        r2 = r2 + excluded.r2,
        r3 = r3 + excluded.r3,
        r4 = r4 + excluded.r4,
        r5 = r5 + excluded.r5,
        reopened = reopened + excluded.reopened,
        ever_resolved = ever_resolved + excluded.ever_resolved,
        site_visits = site_visits + excluded.site_visits;

    INSERT INTO stats_hours
    SELECT COALESCE((SELECT MAX(starts_at) FROM stats_days WHERE starts_at <= NEW.created_at), '1900-01-01 00:00:00'),
           COALESCE(NEW.department_id, ''), NEW.category_id, COALESCE(NEW.assignee_id, ''),
           COALESCE((SELECT bucket FROM stats_buckets WHERE lower_us <= r.us ORDER BY lower_us DESC LIMIT 1), 0),
           NEW.sign, NEW.sign * r.us
      FROM (SELECT (unixepoch(NEW.resolved_at) - unixepoch(NEW.created_at)) * 1000000
                 + CAST(round((CAST('0' || substr(NEW.resolved_at, 20) AS REAL)
                               - CAST('0' || substr(NEW.created_at, 20) AS REAL)) * 1000000) AS INTEGER) AS us) r
     WHERE NEW.sign <> 0 AND NEW.resolved_at IS NOT NULL
    ON CONFLICT (bucket, day, department_id, category_id, assignee_id) DO UPDATE SET
        n = n + excluded.n, sum_us = sum_us + excluded.sum_us;

    INSERT INTO stats_events
    SELECT e.kind, COALESCE((SELECT MAX(starts_at) FROM stats_days WHERE starts_at <= e.at), '1900-01-01 00:00:00'),
           COALESCE((SELECT MAX(starts_at) FROM stats_days WHERE starts_at <= NEW.created_at), '1900-01-01 00:00:00'),
           COALESCE(NEW.department_id, ''), NEW.category_id, NEW.sign
      FROM (SELECT 1 AS kind, NEW.resolved_at AS at UNION ALL SELECT 2, NEW.closed_at) e
     WHERE NEW.sign <> 0 AND e.at IS NOT NULL
    ON CONFLICT (kind, day, created_day, department_id, category_id) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER tickets_stats_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO stats_ticket_delta VALUES (1, NEW.created_at, NEW.department_id, NEW.category_id,
        NEW.assignee_id, NEW.status, NEW.accepted_at, NEW.resolved_at, NEW.closed_at, NEW.due_at,
        NEW.rating, NEW.auto_closed, NEW.reopen_count,
        EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = NEW.id AND x.status = 'approved'),
        (SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = NEW.id));
END;

CREATE TRIGGER tickets_stats_update AFTER UPDATE OF created_at, department_id, category_id,
    assignee_id, status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed,
    reopen_count ON tickets
WHEN OLD.created_at IS NOT NEW.created_at OR OLD.department_id IS NOT NEW.department_id
  OR OLD.category_id IS NOT NEW.category_id OR OLD.assignee_id IS NOT NEW.assignee_id
  OR OLD.status IS NOT NEW.status OR OLD.accepted_at IS NOT NEW.accepted_at
  OR OLD.resolved_at IS NOT NEW.resolved_at OR OLD.closed_at IS NOT NEW.closed_at
  OR OLD.due_at IS NOT NEW.due_at OR OLD.rating IS NOT NEW.rating
  OR OLD.auto_closed IS NOT NEW.auto_closed OR OLD.reopen_count IS NOT NEW.reopen_count
BEGIN
    INSERT INTO stats_ticket_delta VALUES (-1, OLD.created_at, OLD.department_id, OLD.category_id,
        OLD.assignee_id, OLD.status, OLD.accepted_at, OLD.resolved_at, OLD.closed_at, OLD.due_at,
        OLD.rating, OLD.auto_closed, OLD.reopen_count,
        -EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = OLD.id AND x.status = 'approved'),
        -(SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = OLD.id));
    INSERT INTO stats_ticket_delta VALUES (1, NEW.created_at, NEW.department_id, NEW.category_id,
        NEW.assignee_id, NEW.status, NEW.accepted_at, NEW.resolved_at, NEW.closed_at, NEW.due_at,
        NEW.rating, NEW.auto_closed, NEW.reopen_count,
        EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = NEW.id AND x.status = 'approved'),
        (SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = NEW.id));
END;

CREATE TRIGGER tickets_stats_delete AFTER DELETE ON tickets
BEGIN
    INSERT INTO stats_ticket_delta VALUES (-1, OLD.created_at, OLD.department_id, OLD.category_id,
        OLD.assignee_id, OLD.status, OLD.accepted_at, OLD.resolved_at, OLD.closed_at, OLD.due_at,
        OLD.rating, OLD.auto_closed, OLD.reopen_count,
        -EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = OLD.id AND x.status = 'approved'),
        -(SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = OLD.id));
END;

-- A site visit counts on its ticket's row (sign 0: nothing else of the ticket changes).
CREATE TRIGGER comments_stats_insert AFTER INSERT ON comments WHEN NEW.kind = 'site_visit'
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, 0, 1
      FROM tickets WHERE id = NEW.ticket_id;
END;

CREATE TRIGGER comments_stats_delete AFTER DELETE ON comments WHEN OLD.kind = 'site_visit'
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, 0, -1
      FROM tickets WHERE id = OLD.ticket_id;
END;

CREATE TRIGGER comments_stats_update AFTER UPDATE OF kind, ticket_id ON comments
WHEN (OLD.kind = 'site_visit' OR NEW.kind = 'site_visit')
 AND (OLD.kind IS NOT NEW.kind OR OLD.ticket_id IS NOT NEW.ticket_id)
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, 0, -1
      FROM tickets WHERE id = OLD.ticket_id AND OLD.kind = 'site_visit';
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, 0, 1
      FROM tickets WHERE id = NEW.ticket_id AND NEW.kind = 'site_visit';
END;

-- `extended` counts tickets with at least one approved extension: an extension changes it
-- only when it is the ticket's first approved one to come or the last to go.
CREATE TRIGGER ticket_extensions_stats_insert AFTER INSERT ON ticket_extensions
WHEN NEW.status = 'approved' AND NOT EXISTS (SELECT 1 FROM ticket_extensions x
    WHERE x.ticket_id = NEW.ticket_id AND x.id <> NEW.id AND x.status = 'approved')
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, 1, 0
      FROM tickets WHERE id = NEW.ticket_id;
END;

CREATE TRIGGER ticket_extensions_stats_update AFTER UPDATE OF status ON ticket_extensions
WHEN (OLD.status = 'approved') <> (NEW.status = 'approved') AND NOT EXISTS (SELECT 1 FROM ticket_extensions x
    WHERE x.ticket_id = NEW.ticket_id AND x.id <> NEW.id AND x.status = 'approved')
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count,
        CASE WHEN NEW.status = 'approved' THEN 1 ELSE -1 END, 0
      FROM tickets WHERE id = NEW.ticket_id;
END;

CREATE TRIGGER ticket_extensions_stats_delete AFTER DELETE ON ticket_extensions
WHEN OLD.status = 'approved' AND NOT EXISTS (SELECT 1 FROM ticket_extensions x
    WHERE x.ticket_id = OLD.ticket_id AND x.status = 'approved')
BEGIN
    INSERT INTO stats_ticket_delta SELECT 0, created_at, department_id, category_id, assignee_id,
        status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed, reopen_count, -1, 0
      FROM tickets WHERE id = OLD.ticket_id;
END;

-- The tickets filed before this migration.
INSERT INTO stats_ticket_delta SELECT 1, t.created_at, t.department_id, t.category_id,
    t.assignee_id, t.status, t.accepted_at, t.resolved_at, t.closed_at, t.due_at, t.rating,
    t.auto_closed, t.reopen_count,
    EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = t.id AND x.status = 'approved'),
    (SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = t.id)
  FROM tickets t;
