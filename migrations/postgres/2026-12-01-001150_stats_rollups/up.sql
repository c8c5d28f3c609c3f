-- Statistics from rollups: additive figures per local filing day × department × category ×
-- assignee, kept by triggers in the same transaction as every change of a ticket, its
-- comments (site visits) and its extensions, so no code path can forget them. `src/stats/
-- rollup.rs` reads them; `qifu stats rebuild` recomputes them (and must, after the time
-- zone changes). Missing department and assignee are '' here (NULLs would never conflict).

-- The zone the days below were cut in; queries fall back to the tickets when it is not the
-- configured one.
CREATE TABLE stats_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO stats_state (key, value) VALUES ('time_zone', 'Asia/Shanghai');

-- The UTC instant each local day starts, 2000-01-01 to 2199-12-31: triggers cannot read the
-- configuration, so the day of an instant is the latest start at or before it. Filled here
-- for the default zone (UTC+8 throughout), by `qifu stats rebuild` for any other.
CREATE TABLE stats_days (starts_at TIMESTAMP PRIMARY KEY);
INSERT INTO stats_days (starts_at)
SELECT g FROM generate_series(TIMESTAMP '1999-12-31 16:00:00', TIMESTAMP '2199-12-30 16:00:00', INTERVAL '1 day') g;

-- Log-scale buckets of resolution time for the median and p90: bucket 0 is under 36 s
-- (0.01 h), bucket b ≥ 1 starts at 36 s × 1.01^(b−1), so a bucket spans 1 %. Doubles
-- multiplied in order, truncated to whole microseconds, as on SQLite.
CREATE TABLE stats_buckets (lower_us BIGINT PRIMARY KEY, bucket INTEGER NOT NULL);
WITH RECURSIVE b(bucket, lower) AS (
    SELECT 1, CAST(36000000 AS DOUBLE PRECISION)
    UNION ALL SELECT bucket + 1, lower * CAST(1.01 AS DOUBLE PRECISION) FROM b WHERE bucket < 2000)
INSERT INTO stats_buckets (lower_us, bucket)
SELECT 0, 0 UNION ALL SELECT CAST(trunc(lower) AS BIGINT), bucket FROM b;

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
);

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
);

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
);

CREATE FUNCTION stats_day(at TIMESTAMP) RETURNS TIMESTAMP LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT MAX(starts_at) FROM stats_days WHERE starts_at <= at), TIMESTAMP '1900-01-01')
$$;

CREATE FUNCTION stats_us(later TIMESTAMP, earlier TIMESTAMP) RETURNS BIGINT LANGUAGE sql IMMUTABLE AS $$
    SELECT CAST(EXTRACT(EPOCH FROM (later - earlier)) * 1000000 AS BIGINT)
$$;

-- Adds `sign` times the ticket's contribution, plus `extended` and `visits` as given.
CREATE FUNCTION stats_apply(sign INTEGER, t tickets, extended INTEGER, visits INTEGER)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_day TIMESTAMP := stats_day(t.created_at);
    v_department TEXT := COALESCE(t.department_id, '');
    v_assignee TEXT := COALESCE(t.assignee_id, '');
    v_rated BOOLEAN := t.rating IS NOT NULL AND NOT t.auto_closed;
    v_resolution BIGINT := stats_us(t.resolved_at, t.created_at);
BEGIN
    INSERT INTO stats_daily VALUES (
        v_day, v_department, t.category_id, v_assignee,
        sign,
        sign * (t.status = 'submitted')::int,
        sign * (t.status = 'assigned')::int,
        sign * (t.status = 'in_progress')::int,
        sign * (t.status = 'resolved')::int,
        sign * (t.status = 'closed')::int,
        sign * (t.status = 'cancelled')::int,
        sign * (t.status = 'awaiting_enterprise')::int,
        extended,
        sign * (t.resolved_at IS NOT NULL)::int,
        sign * COALESCE((t.resolved_at <= t.due_at)::int, 0),
        sign * (t.accepted_at IS NOT NULL AND t.status <> 'cancelled')::int,
        sign * (t.accepted_at IS NOT NULL)::int,
        sign * COALESCE(stats_us(t.accepted_at, t.created_at), 0),
        sign * COALESCE(v_resolution, 0),
        sign * v_rated::int,
        sign * CASE WHEN v_rated THEN t.rating ELSE 0 END,
        sign * (v_rated AND t.rating = 1)::int,
        sign * (v_rated AND t.rating = 2)::int,
        sign * (v_rated AND t.rating = 3)::int,
        sign * (v_rated AND t.rating = 4)::int,
        sign * (v_rated AND t.rating = 5)::int,
        sign * (t.reopen_count > 0)::int,
        sign * (t.resolved_at IS NOT NULL OR t.reopen_count > 0)::int,
        visits)
    ON CONFLICT (day, department_id, category_id, assignee_id) DO UPDATE SET
        total = stats_daily.total + EXCLUDED.total,
        submitted = stats_daily.submitted + EXCLUDED.submitted,
        assigned = stats_daily.assigned + EXCLUDED.assigned,
        in_progress = stats_daily.in_progress + EXCLUDED.in_progress,
        resolved = stats_daily.resolved + EXCLUDED.resolved,
        closed = stats_daily.closed + EXCLUDED.closed,
        cancelled = stats_daily.cancelled + EXCLUDED.cancelled,
        awaiting_enterprise = stats_daily.awaiting_enterprise + EXCLUDED.awaiting_enterprise,
        extended = stats_daily.extended + EXCLUDED.extended,
        timed = stats_daily.timed + EXCLUDED.timed,
        on_time = stats_daily.on_time + EXCLUDED.on_time,
        responded = stats_daily.responded + EXCLUDED.responded,
        accepted = stats_daily.accepted + EXCLUDED.accepted,
        first_response_us = stats_daily.first_response_us + EXCLUDED.first_response_us,
        resolution_us = stats_daily.resolution_us + EXCLUDED.resolution_us,
        rated = stats_daily.rated + EXCLUDED.rated,
        rating_sum = stats_daily.rating_sum + EXCLUDED.rating_sum,
        r1 = stats_daily.r1 + EXCLUDED.r1,
        r2 = stats_daily.r2 + EXCLUDED.r2,
        r3 = stats_daily.r3 + EXCLUDED.r3,
        r4 = stats_daily.r4 + EXCLUDED.r4,
        r5 = stats_daily.r5 + EXCLUDED.r5,
        reopened = stats_daily.reopened + EXCLUDED.reopened,
        ever_resolved = stats_daily.ever_resolved + EXCLUDED.ever_resolved,
        site_visits = stats_daily.site_visits + EXCLUDED.site_visits;

    IF sign = 0 THEN
        RETURN;
    END IF;
    IF v_resolution IS NOT NULL THEN
        INSERT INTO stats_hours VALUES (
            v_day, v_department, t.category_id, v_assignee,
            COALESCE((SELECT bucket FROM stats_buckets WHERE lower_us <= v_resolution
                       ORDER BY lower_us DESC LIMIT 1), 0),
            sign, sign * v_resolution)
        ON CONFLICT (bucket, day, department_id, category_id, assignee_id) DO UPDATE SET
            n = stats_hours.n + EXCLUDED.n, sum_us = stats_hours.sum_us + EXCLUDED.sum_us;
        INSERT INTO stats_events VALUES (1, stats_day(t.resolved_at), v_day, v_department, t.category_id, sign)
        ON CONFLICT (kind, day, created_day, department_id, category_id) DO UPDATE SET
            n = stats_events.n + EXCLUDED.n;
    END IF;
    IF t.closed_at IS NOT NULL THEN
        INSERT INTO stats_events VALUES (2, stats_day(t.closed_at), v_day, v_department, t.category_id, sign)
        ON CONFLICT (kind, day, created_day, department_id, category_id) DO UPDATE SET
            n = stats_events.n + EXCLUDED.n;
    END IF;
END
$$;

CREATE FUNCTION stats_extended(ticket TEXT) RETURNS INTEGER LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM ticket_extensions x
                              WHERE x.ticket_id = ticket AND x.status = 'approved') THEN 1 ELSE 0 END
$$;

CREATE FUNCTION stats_visits(ticket TEXT) RETURNS INTEGER LANGUAGE sql STABLE AS $$
    SELECT CAST(COUNT(*) AS INTEGER) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = ticket
$$;

CREATE FUNCTION tickets_track_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        PERFORM stats_apply(-1, OLD, -stats_extended(OLD.id), -stats_visits(OLD.id));
    END IF;
    IF TG_OP <> 'DELETE' THEN
        PERFORM stats_apply(1, NEW, stats_extended(NEW.id), stats_visits(NEW.id));
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tickets_stats_insert AFTER INSERT ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_track_stats();
CREATE TRIGGER tickets_stats_update AFTER UPDATE OF created_at, department_id, category_id,
    assignee_id, status, accepted_at, resolved_at, closed_at, due_at, rating, auto_closed,
    reopen_count ON tickets
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at
        OR OLD.department_id IS DISTINCT FROM NEW.department_id
        OR OLD.category_id IS DISTINCT FROM NEW.category_id
        OR OLD.assignee_id IS DISTINCT FROM NEW.assignee_id
        OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.accepted_at IS DISTINCT FROM NEW.accepted_at
        OR OLD.resolved_at IS DISTINCT FROM NEW.resolved_at
        OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
        OR OLD.due_at IS DISTINCT FROM NEW.due_at
        OR OLD.rating IS DISTINCT FROM NEW.rating
        OR OLD.auto_closed IS DISTINCT FROM NEW.auto_closed
        OR OLD.reopen_count IS DISTINCT FROM NEW.reopen_count)
    EXECUTE FUNCTION tickets_track_stats();
CREATE TRIGGER tickets_stats_delete AFTER DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_track_stats();

-- A site visit counts on its ticket's row (sign 0: nothing else of the ticket changes).
CREATE FUNCTION comments_track_stats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.kind = 'site_visit' THEN
        PERFORM stats_apply(0, t, 0, -1) FROM tickets t WHERE t.id = OLD.ticket_id;
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.kind = 'site_visit' THEN
        PERFORM stats_apply(0, t, 0, 1) FROM tickets t WHERE t.id = NEW.ticket_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER comments_stats_insert AFTER INSERT ON comments
    FOR EACH ROW WHEN (NEW.kind = 'site_visit') EXECUTE FUNCTION comments_track_stats();
CREATE TRIGGER comments_stats_update AFTER UPDATE OF kind, ticket_id ON comments
    FOR EACH ROW WHEN ((OLD.kind = 'site_visit' OR NEW.kind = 'site_visit')
        AND (OLD.kind IS DISTINCT FROM NEW.kind OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id))
    EXECUTE FUNCTION comments_track_stats();
CREATE TRIGGER comments_stats_delete AFTER DELETE ON comments
    FOR EACH ROW WHEN (OLD.kind = 'site_visit') EXECUTE FUNCTION comments_track_stats();

-- `extended` counts tickets with at least one approved extension: an extension changes it
-- only when it is the ticket's first approved one to come or the last to go.
CREATE FUNCTION ticket_extensions_track_stats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_ticket TEXT;
    v_id TEXT;
    v_was BOOLEAN := TG_OP <> 'INSERT' AND OLD.status = 'approved';
    v_is BOOLEAN := TG_OP <> 'DELETE' AND NEW.status = 'approved';
BEGIN
    IF TG_OP = 'DELETE' THEN
        v_ticket := OLD.ticket_id; v_id := OLD.id;
    ELSE
        v_ticket := NEW.ticket_id; v_id := NEW.id;
    END IF;
    IF v_was <> v_is AND NOT EXISTS (SELECT 1 FROM ticket_extensions x
            WHERE x.ticket_id = v_ticket AND x.id <> v_id AND x.status = 'approved') THEN
        PERFORM stats_apply(0, t, CASE WHEN v_is THEN 1 ELSE -1 END, 0)
           FROM tickets t WHERE t.id = v_ticket;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER ticket_extensions_stats AFTER INSERT OR DELETE OR UPDATE OF status ON ticket_extensions
    FOR EACH ROW EXECUTE FUNCTION ticket_extensions_track_stats();

-- The tickets filed before this migration.
SELECT stats_apply(1, t, stats_extended(t.id), stats_visits(t.id)) FROM tickets t;
