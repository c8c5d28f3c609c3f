//! The figures from the rollups (migration `stats_rollups`): additive counts and sums per
//! local filing day × department × category × assignee (`stats_daily`), resolution times per
//! log-scale bucket (`stats_hours`) and resolutions and closures per day (`stats_events`),
//! kept by triggers in the same transaction as every ticket change. They answer whenever the
//! filter's bounds are local day starts of the zone the rollups were cut in ([`usable`]);
//! otherwise, and for the enterprise breakdown, `query` reads the tickets. Figures that depend
//! on "now" (overdue_open) are counted from the open tickets here too.
//!
//! Percentiles: each order statistic is the mean of the resolution times in its bucket
//! (buckets 1 % wide from 36 s up, one bucket below), then interpolated as `percentile_cont`
//! does. Exact when a bucket's times are equal; otherwise within 1 % (36 s under 0.01 h).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use super::query::Group;
use super::sql::{Bind, Sql};
use super::{Aggregates, Filter, GroupBy, interpolate, local_midnight_utc};
use crate::error::{AppError, AppResult};
use crate::store::DbConn;

/// The local days `stats_days` holds: the migration's fill, and what a rebuild writes.
const FIRST_DAY: (i32, u32, u32) = (2000, 1, 1);
const DAYS: u64 = 73_049;

const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// What a rollup group is called (its key, `''` read as NULL), the column it is grouped by,
/// and where its label comes from; `None` when the rollups do not have the grain (an
/// enterprise). Grouping by the bare column lets SQLite follow an index in its order.
fn group_key(by: Option<GroupBy>) -> Option<(&'static str, &'static str, &'static str)> {
    match by {
        None => Some(("CAST(NULL AS TEXT)", "", "")),
        Some(GroupBy::Department) => Some((
            "NULLIF(r.department_id, '')",
            "r.department_id",
            "departments",
        )),
        Some(GroupBy::Category) => Some(("r.category_id", "r.category_id", "categories")),
        Some(GroupBy::Official) => Some(("NULLIF(r.assignee_id, '')", "r.assignee_id", "users")),
        Some(GroupBy::Enterprise) => None,
    }
}

/// The same grouping on `tickets t`, for the figures counted from the tickets themselves.
fn ticket_key(by: Option<GroupBy>) -> &'static str {
    match by {
        None => "CAST(NULL AS TEXT)",
        Some(GroupBy::Department) => "t.department_id",
        Some(GroupBy::Category) => "t.category_id",
        Some(GroupBy::Official) => "t.assignee_id",
        Some(GroupBy::Enterprise) => "t.enterprise_id",
    }
}

#[derive(QueryableByName)]
struct State {
    #[diesel(sql_type = Nullable<Text>)]
    zone: Option<String>,
    #[diesel(sql_type = BigInt)]
    days: i64,
}

/// Whether the rollups can answer for this filter and grouping: they were cut in `zone`,
/// each bound is a local day start, and they have the grain.
pub fn usable(conn: &mut DbConn, zone: &str, by: Option<GroupBy>, f: &Filter) -> AppResult<bool> {
    if group_key(by).is_none() {
        return Ok(false);
    }
    let bounds: Vec<NaiveDateTime> = [f.from, f.to].into_iter().flatten().collect();
    let mut sql = Sql::new(conn);
    sql.push(
        "SELECT (SELECT value FROM stats_state WHERE key = 'time_zone') AS zone, \
         (SELECT COUNT(*) FROM stats_days WHERE starts_at IN (",
    );
    if bounds.is_empty() {
        // `IN ()` is not SQL; `IN (NULL)` matches nothing.
        sql.push("NULL");
    }
    for (i, bound) in bounds.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(Bind::Ts(*bound));
    }
    sql.push(")) AS days");
    let rows: Vec<State> = sql.load(conn)?;
    Ok(rows
        .first()
        .is_some_and(|s| s.zone.as_deref() == Some(zone) && s.days == bounds.len() as i64))
}

#[derive(QueryableByName)]
struct RollupRow {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    label: Option<String>,
    #[diesel(sql_type = BigInt)]
    total: i64,
    #[diesel(sql_type = BigInt)]
    submitted: i64,
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    in_progress: i64,
    #[diesel(sql_type = BigInt)]
    resolved: i64,
    #[diesel(sql_type = BigInt)]
    closed: i64,
    #[diesel(sql_type = BigInt)]
    cancelled: i64,
    #[diesel(sql_type = BigInt)]
    awaiting_enterprise: i64,
    #[diesel(sql_type = BigInt)]
    extended: i64,
    #[diesel(sql_type = BigInt)]
    timed: i64,
    #[diesel(sql_type = BigInt)]
    on_time: i64,
    #[diesel(sql_type = BigInt)]
    responded: i64,
    #[diesel(sql_type = BigInt)]
    accepted: i64,
    #[diesel(sql_type = BigInt)]
    first_response_us: i64,
    #[diesel(sql_type = BigInt)]
    resolution_us: i64,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = BigInt)]
    rating_sum: i64,
    #[diesel(sql_type = BigInt)]
    r1: i64,
    #[diesel(sql_type = BigInt)]
    r2: i64,
    #[diesel(sql_type = BigInt)]
    r3: i64,
    #[diesel(sql_type = BigInt)]
    r4: i64,
    #[diesel(sql_type = BigInt)]
    r5: i64,
    #[diesel(sql_type = BigInt)]
    reopened: i64,
    #[diesel(sql_type = BigInt)]
    ever_resolved: i64,
    #[diesel(sql_type = BigInt)]
    site_visits: i64,
}

const SUMMED: [&str; 25] = [
    "total",
    "submitted",
    "assigned",
    "in_progress",
    "resolved",
    "closed",
    "cancelled",
    "awaiting_enterprise",
    "extended",
    "timed",
    "on_time",
    "responded",
    "accepted",
    "first_response_us",
    "resolution_us",
    "rated",
    "rating_sum",
    "r1",
    "r2",
    "r3",
    "r4",
    "r5",
    "reopened",
    "ever_resolved",
    "site_visits",
];

/// `part / count`, the mean, in the unit `scale` makes of it; none over nothing.
fn mean(part: i64, count: i64, scale: f64) -> Option<f64> {
    (count > 0).then(|| part as f64 / count as f64 / scale)
}

impl RollupRow {
    fn aggregates(&self) -> Aggregates {
        Aggregates {
            total: self.total,
            by_status: [
                self.submitted,
                self.assigned,
                self.in_progress,
                self.resolved,
                self.closed,
                self.cancelled,
                self.awaiting_enterprise,
            ],
            timed: self.timed,
            on_time: self.on_time,
            responded: self.responded,
            first_response_hours: mean(self.first_response_us, self.accepted, MICROS_PER_HOUR),
            resolution_hours: mean(self.resolution_us, self.timed, MICROS_PER_HOUR),
            median_hours: None,
            p90_hours: None,
            rated: self.rated,
            satisfaction: mean(self.rating_sum, self.rated, 1.0),
            ratings: [self.r1, self.r2, self.r3, self.r4, self.r5],
            reopened: self.reopened,
            ever_resolved: self.ever_resolved,
            overdue_open: 0,
            site_visits: self.site_visits,
            extended: self.extended,
        }
    }
}

/// `WHERE`/`AND` conditions of the filter on a rollup aliased `r` whose filing day is `day`.
fn filter(sql: &mut Sql, f: &Filter, joiner: &'static str, day: &str) {
    sql.filter_columns(f, joiner, day, "r.");
}

fn rollup_rows(conn: &mut DbConn, by: Option<GroupBy>, f: &Filter) -> AppResult<Vec<RollupRow>> {
    let Some((key, column, table)) = group_key(by) else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "no rollup by enterprise"
        )));
    };
    let mut sql = Sql::new(conn);
    if table.is_empty() {
        sql.push("SELECT g.*, CAST(NULL AS TEXT) AS label FROM (");
    } else {
        sql.push("SELECT g.*, l.name AS label FROM (");
    }
    let _ = write!(sql.text, "SELECT {key} AS key");
    for column in SUMMED {
        let _ = write!(
            sql.text,
            ", CAST(COALESCE(SUM(r.{column}), 0) AS BIGINT) AS {column}"
        );
    }
    sql.push(" FROM stats_daily r");
    filter(&mut sql, f, " WHERE ", "r.day");
    if by.is_some() {
        // Rows that every change moved away from stay behind as zeros.
        let _ = write!(sql.text, " GROUP BY {column} HAVING SUM(r.total) > 0");
    }
    sql.push(") g");
    if !table.is_empty() {
        let _ = write!(sql.text, " LEFT JOIN {table} l ON l.id = g.key");
    }
    sql.load(conn)
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Open tickets past `due_at` now, per group: a figure of the moment, so from the tickets
/// (the open statuses spelled out, so the partial indexes on open tickets serve it).
fn overdue_open(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
    now: NaiveDateTime,
) -> AppResult<HashMap<Option<String>, i64>> {
    // SQLite would rather walk an index in the group's order (all 200,000 tickets of
    // `tickets_category_created`, 0.8 s) than sort the few overdue ones: a unary `+` keeps the
    // column out of index selection.
    let key = match conn {
        DbConn::Sqlite(_) if by.is_some() => format!("+{}", ticket_key(by)),
        _ => ticket_key(by).to_owned(),
    };
    let mut sql = Sql::new(conn);
    let _ = write!(
        sql.text,
        "SELECT {key} AS key, COUNT(*) AS n FROM tickets t WHERE t.{open} AND t.status <> '{awaiting}' \
         AND t.due_at < ",
        open = crate::store::tickets::status_in_sql(&crate::domain::ticket::TicketStatus::OPEN),
        awaiting = crate::store::tickets::AWAITING,
    );
    sql.bind(Bind::Ts(now)).filter(f, " AND ");
    if by.is_some() {
        let _ = write!(sql.text, " GROUP BY {key}");
    }
    let rows: Vec<KeyCount> = sql.load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

#[derive(QueryableByName)]
struct BucketRow {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    sum_us: i64,
}

/// One bucket of a histogram: how many resolution times, and their sum in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub n: i64,
    pub sum_us: i64,
}

/// The order statistic at 0-based `index` of a histogram in bucket order: the mean of its
/// bucket, in hours.
fn order_statistic(buckets: &[Bucket], index: i64) -> Option<f64> {
    let mut below = 0;
    for b in buckets {
        if index < below + b.n {
            return mean(b.sum_us, b.n, MICROS_PER_HOUR);
        }
        below += b.n;
    }
    None
}

/// Median and p90 from a histogram in bucket order, interpolated like `percentile_cont`.
pub fn percentiles(buckets: &[Bucket]) -> (Option<f64>, Option<f64>) {
    let n: i64 = buckets.iter().map(|b| b.n).sum();
    let at = |p: f64| {
        let lo = (p * (n - 1) as f64).floor() as i64;
        order_statistic(buckets, lo).map(|v| interpolate(p, n, v, order_statistic(buckets, lo + 1)))
    };
    if n == 0 {
        (None, None)
    } else {
        (at(0.5), at(0.9))
    }
}

fn histograms(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
) -> AppResult<HashMap<Option<String>, Vec<Bucket>>> {
    let Some((key, column, _)) = group_key(by) else {
        return Ok(HashMap::new());
    };
    let mut sql = Sql::new(conn);
    let _ = write!(
        sql.text,
        "SELECT {key} AS key, CAST(SUM(r.n) AS BIGINT) AS n, \
         CAST(SUM(r.sum_us) AS BIGINT) AS sum_us FROM stats_hours r"
    );
    filter(&mut sql, f, " WHERE ", "r.day");
    if by.is_some() {
        let _ = write!(sql.text, " GROUP BY {column}, r.bucket");
    } else {
        sql.push(" GROUP BY r.bucket");
    }
    sql.push(" HAVING SUM(r.n) > 0 ORDER BY r.bucket");
    let rows: Vec<BucketRow> = sql.load(conn)?;
    let mut out: HashMap<Option<String>, Vec<Bucket>> = HashMap::new();
    for r in rows {
        out.entry(r.key).or_default().push(Bucket {
            n: r.n,
            sum_us: r.sum_us,
        });
    }
    Ok(out)
}

/// The figures per group, or of the whole filter when `by` is None, from the rollups: the
/// same answer as `query::groups` (percentiles within the error stated above).
pub fn groups(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
    now: NaiveDateTime,
) -> AppResult<Vec<Group>> {
    let rows = rollup_rows(conn, by, f)?;
    let overdue = overdue_open(conn, by, f, now)?;
    let histograms = histograms(conn, by, f)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut aggregates = row.aggregates();
            aggregates.overdue_open = overdue.get(&row.key).copied().unwrap_or(0);
            if let Some(buckets) = histograms.get(&row.key) {
                (aggregates.median_hours, aggregates.p90_hours) = percentiles(buckets);
            }
            Group {
                key: row.key,
                label: row.label,
                aggregates,
            }
        })
        .collect())
}

#[derive(QueryableByName)]
struct First {
    #[diesel(sql_type = Nullable<Timestamp>)]
    first: Option<NaiveDateTime>,
}

/// The start of the local day the filter's oldest ticket was filed: where a trend without
/// `from` starts (its day is all the trend needs).
pub fn first_created(conn: &mut DbConn, f: &Filter) -> AppResult<Option<NaiveDateTime>> {
    let mut sql = Sql::new(conn);
    sql.push("SELECT MIN(r.day) AS first FROM stats_daily r WHERE r.total > 0");
    filter(&mut sql, f, " AND ", "r.day");
    let rows: Vec<First> = sql.load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.first))
}

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = BigInt)]
    kind: i64,
    #[diesel(sql_type = Timestamp)]
    day: NaiveDateTime,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts per (period index, kind) like `query::period_counts`: kind 0 filings from
/// `stats_daily`, 1 resolutions and 2 closures from `stats_events`, summed per day in the
/// database and placed in their periods here. `bounds` are consecutive local day starts, as
/// the rollups' days are. (A join of the periods with the rollups on day ranges made
/// PostgreSQL loop over every rollup row per period: 2 s for a year of days.)
pub fn period_counts(
    conn: &mut DbConn,
    f: &Filter,
    bounds: &[(NaiveDateTime, NaiveDateTime)],
) -> AppResult<BTreeMap<(usize, usize), i64>> {
    let (Some(&(first, _)), Some(&(_, end))) = (bounds.first(), bounds.last()) else {
        return Ok(BTreeMap::new());
    };
    let mut sql = Sql::new(conn);
    sql.push(
        "SELECT CAST(0 AS BIGINT) AS kind, r.day AS day, CAST(SUM(r.total) AS BIGINT) AS n \
         FROM stats_daily r WHERE r.day >= ",
    )
    .bind(Bind::Ts(first))
    .push(" AND r.day < ")
    .bind(Bind::Ts(end));
    filter(&mut sql, f, " AND ", "r.day");
    sql.push(" GROUP BY r.day UNION ALL SELECT CAST(r.kind AS BIGINT) AS kind, r.day AS day, CAST(SUM(r.n) AS BIGINT) AS n FROM stats_events r WHERE r.kind IN (1, 2) AND r.day >= ")
        .bind(Bind::Ts(first))
        .push(" AND r.day < ")
        .bind(Bind::Ts(end));
    filter(&mut sql, f, " AND ", "r.created_day");
    sql.push(" GROUP BY r.kind, r.day");
    let rows: Vec<DayCount> = sql.load(conn)?;
    let mut out = BTreeMap::new();
    for r in rows.into_iter().filter(|r| r.n != 0) {
        let i = bounds.partition_point(|&(_, e)| e <= r.day);
        if bounds.get(i).is_some_and(|&(s, _)| s <= r.day) {
            *out.entry((i, r.kind as usize)).or_insert(0) += r.n;
        }
    }
    out.retain(|_, n| *n != 0);
    Ok(out)
}

/// Every ticket's contribution, added to emptied rollups by the triggers' own code (the
/// SQLite view `stats_ticket_delta`, the PostgreSQL function `stats_apply`).
const RECOMPUTE_SQLITE: &str = "INSERT INTO stats_ticket_delta SELECT 1, t.created_at, \
    t.department_id, t.category_id, t.assignee_id, t.status, t.accepted_at, t.resolved_at, \
    t.closed_at, t.due_at, t.rating, t.auto_closed, t.reopen_count, \
    EXISTS (SELECT 1 FROM ticket_extensions x WHERE x.ticket_id = t.id AND x.status = 'approved'), \
    (SELECT COUNT(*) FROM comments c WHERE c.kind = 'site_visit' AND c.ticket_id = t.id) \
    FROM tickets t";
const RECOMPUTE_POSTGRES: &str =
    "SELECT stats_apply(1, t, stats_extended(t.id), stats_visits(t.id)) FROM tickets t";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Recomputes the rollups from the tickets, with the local days cut in `tz`; run inside one
/// transaction, so readers see the old rollups or the new ones. Returns the tickets counted.
pub fn rebuild(conn: &mut DbConn, tz: chrono_tz::Tz) -> AppResult<i64> {
    // Writers first lock their ticket's row, then the rollup rows their triggers touch; a
    // rebuild deleting rollup rows while they run deadlocked with them (seen in a test, with
    // the auto-close sweep). Holding the triggers' tables in SHARE mode first waits for the
    // changes in flight and keeps new ones out until the rebuild commits, so it also misses
    // none. SQLite's write transaction already excludes every other writer.
    if let DbConn::Postgres(_) = conn {
        conn.batch_execute("LOCK TABLE tickets, comments, ticket_extensions IN SHARE MODE")?;
    }
    conn.batch_execute(
        "DELETE FROM stats_days; DELETE FROM stats_daily; DELETE FROM stats_hours; \
         DELETE FROM stats_events;",
    )?;
    let first = NaiveDate::from_ymd_opt(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("first rollup day")))?;
    let starts: Vec<NaiveDateTime> = (0..DAYS)
        .filter_map(|n| first.checked_add_days(Days::new(n)))
        .map(|day| local_midnight_utc(day, tz))
        .collect();
    for chunk in starts.chunks(1000) {
        let mut sql = Sql::new(conn);
        sql.push("INSERT INTO stats_days (starts_at) VALUES ");
        for (i, start) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .bind(Bind::Ts(*start))
                .push(")");
        }
        sql.execute(conn)?;
    }
    let mut sql = Sql::new(conn);
    sql.push("UPDATE stats_state SET value = ")
        .bind(Bind::Text(tz.name().to_owned()))
        .push(" WHERE key = 'time_zone'");
    sql.execute(conn)?;
    match conn {
        DbConn::Sqlite(_) => conn.batch_execute(RECOMPUTE_SQLITE)?,
        DbConn::Postgres(_) => conn.batch_execute(RECOMPUTE_POSTGRES)?,
    }
    let mut sql = Sql::new(conn);
    sql.push("SELECT COUNT(*) AS n FROM tickets");
    let rows: Vec<Count> = sql.load(conn)?;
    Ok(rows.first().map_or(0, |r| r.n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values_hours: &[f64]) -> Vec<Bucket> {
        values_hours
            .iter()
            .map(|h| Bucket {
                n: 1,
                sum_us: (h * MICROS_PER_HOUR) as i64,
            })
            .collect()
    }

    #[test]
    fn buckets_of_equal_times_give_exact_percentiles() {
        let (median, p90) = percentiles(&hist(&[2.0, 4.0, 10.0, 20.0, 192.0]));
        assert_eq!(median, Some(10.0));
        assert!((p90.unwrap() - 123.2).abs() < 1e-9);
        // Two tickets of 4 hours share a bucket; its mean is still 4.
        let shared = [Bucket {
            n: 2,
            sum_us: (8.0 * MICROS_PER_HOUR) as i64,
        }];
        assert_eq!(percentiles(&shared), (Some(4.0), Some(4.0)));
        assert_eq!(percentiles(&[]), (None, None));
    }

    #[test]
    fn a_bucket_of_different_times_answers_their_mean() {
        // 10.0 h and 10.05 h fall in one 1 % bucket: the median of three is its mean.
        let b = [
            Bucket {
                n: 2,
                sum_us: (20.05 * MICROS_PER_HOUR) as i64,
            },
            Bucket {
                n: 1,
                sum_us: (30.0 * MICROS_PER_HOUR) as i64,
            },
        ];
        let (median, _) = percentiles(&b);
        assert!((median.unwrap() - 10.025).abs() < 1e-9);
    }
}
