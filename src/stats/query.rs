//! The figures computed by the database: aggregates over the filtered tickets, never the
//! tickets themselves. The only per-backend differences — timestamp arithmetic and how
//! percentiles are taken — are chosen in `Dialect`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use super::sql::{Bind, Sql};
use super::{Aggregates, Filter, GroupBy, interpolate};
use crate::error::AppResult;
use crate::store::DbConn;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    fn of(conn: &DbConn) -> Dialect {
        match conn {
            DbConn::Postgres(_) => Dialect::Postgres,
            DbConn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// `later − earlier` in hours, NULL when either is NULL. SQLite keeps diesel timestamps as
    /// text, which `julianday` parses.
    fn hours(self, later: &str, earlier: &str) -> String {
        match self {
            Dialect::Postgres => {
                format!("(EXTRACT(EPOCH FROM ({later} - {earlier}))::double precision / 3600.0)")
            }
            Dialect::Sqlite => format!("((julianday({later}) - julianday({earlier})) * 24.0)"),
        }
    }
}

/// The grouping column and where its label comes from.
fn group_key(by: Option<GroupBy>) -> (&'static str, &'static str) {
    match by {
        None => ("CAST(NULL AS TEXT)", ""),
        Some(GroupBy::Department) => ("t.department_id", "departments"),
        Some(GroupBy::Category) => ("t.category_id", "categories"),
        Some(GroupBy::Official) => ("t.assignee_id", "users"),
        Some(GroupBy::Enterprise) => ("t.enterprise_id", "enterprises"),
    }
}

#[derive(QueryableByName)]
struct AggregateRow {
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
    #[diesel(sql_type = Nullable<Double>)]
    first_response_hours: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    resolution_hours: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    median_hours: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90_hours: Option<f64>,
    #[diesel(sql_type = BigInt)]
    rated: i64,
    #[diesel(sql_type = Nullable<Double>)]
    satisfaction: Option<f64>,
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
    overdue_open: i64,
}

impl AggregateRow {
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
            first_response_hours: self.first_response_hours,
            resolution_hours: self.resolution_hours,
            median_hours: self.median_hours,
            p90_hours: self.p90_hours,
            rated: self.rated,
            satisfaction: self.satisfaction,
            ratings: [self.r1, self.r2, self.r3, self.r4, self.r5],
            reopened: self.reopened,
            ever_resolved: self.ever_resolved,
            overdue_open: self.overdue_open,
            site_visits: 0,
            extended: self.extended,
        }
    }
}

/// One row per group (one row in all for `by = None`, even over no tickets).
fn aggregate_rows(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
    now: NaiveDateTime,
) -> AppResult<Vec<AggregateRow>> {
    let d = Dialect::of(conn);
    let (key, table) = group_key(by);
    let resolution = d.hours("t.resolved_at", "t.created_at");
    let count = |cond: &str| format!("COALESCE(SUM(CASE WHEN {cond} THEN 1 ELSE 0 END), 0)");
    // PostgreSQL takes percentiles in the same pass; SQLite has no percentile aggregate, so
    // `sqlite_percentiles` fills them in with a second, ordered pass.
    let percentile = |p: &str| match d {
        Dialect::Postgres => format!("percentile_cont({p}) WITHIN GROUP (ORDER BY {resolution})"),
        Dialect::Sqlite => "CAST(NULL AS DOUBLE PRECISION)".to_owned(),
    };
    let mut sql = Sql::new(conn);
    sql.push("SELECT g.*, ");
    if table.is_empty() {
        sql.push("CAST(NULL AS TEXT) AS label FROM (");
    } else {
        sql.push("l.name AS label FROM (");
    }
    let _ = write!(sql.text, "SELECT {key} AS key, COUNT(*) AS total");
    for status in [
        "submitted",
        "assigned",
        "in_progress",
        "resolved",
        "closed",
        "cancelled",
        "awaiting_enterprise",
    ] {
        let _ = write!(
            sql.text,
            ", {} AS {status}",
            count(&format!("t.status = '{status}'"))
        );
    }
    let _ = write!(
        sql.text,
        ", {} AS extended",
        count(
            "EXISTS (SELECT 1 FROM ticket_extensions x \
             WHERE x.ticket_id = t.id AND x.status = 'approved')"
        )
    );
    let _ = write!(
        sql.text,
        ", {timed} AS timed, {on_time} AS on_time, {responded} AS responded, \
         AVG({first}) AS first_response_hours, AVG({resolution}) AS resolution_hours, \
         {median} AS median_hours, {p90} AS p90_hours, \
         {rated} AS rated, \
         AVG(CASE WHEN NOT t.auto_closed THEN CAST(t.rating AS DOUBLE PRECISION) END) AS satisfaction",
        timed = count("t.resolved_at IS NOT NULL"),
        on_time = count("t.resolved_at <= t.due_at"),
        responded = count("t.accepted_at IS NOT NULL AND t.status <> 'cancelled'"),
        first = d.hours("t.accepted_at", "t.created_at"),
        median = percentile("0.5"),
        p90 = percentile("0.9"),
        rated = count("t.rating IS NOT NULL AND NOT t.auto_closed"),
    );
    for r in 1..=5 {
        let _ = write!(
            sql.text,
            ", {} AS r{r}",
            count(&format!("t.rating = {r} AND NOT t.auto_closed"))
        );
    }
    let _ = write!(
        sql.text,
        ", {reopened} AS reopened, {ever} AS ever_resolved, \
         COALESCE(SUM(CASE WHEN t.{open} AND t.status <> '{awaiting}' AND t.due_at < ",
        awaiting = crate::store::tickets::AWAITING,
        open = crate::store::tickets::status_in_sql(&crate::domain::ticket::TicketStatus::OPEN),
        reopened = count("t.reopen_count > 0"),
        ever = count("t.resolved_at IS NOT NULL OR t.reopen_count > 0"),
    );
    sql.bind(Bind::Ts(now))
        .push(" THEN 1 ELSE 0 END), 0) AS overdue_open FROM tickets t")
        .filter(f, " WHERE ");
    if by.is_some() {
        let _ = write!(sql.text, " GROUP BY {key}");
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

fn site_visits(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
) -> AppResult<HashMap<Option<String>, i64>> {
    let (key, _) = group_key(by);
    let mut sql = Sql::new(conn);
    let _ = write!(
        sql.text,
        "SELECT {key} AS key, COUNT(*) AS n FROM comments c JOIN tickets t ON t.id = c.ticket_id \
         WHERE c.kind = 'site_visit'"
    );
    sql.filter(f, " AND ");
    if by.is_some() {
        let _ = write!(sql.text, " GROUP BY {key}");
    }
    let rows: Vec<KeyCount> = sql.load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

/// Median and p90 of resolution hours.
type Percentiles = (Option<f64>, Option<f64>);

#[derive(QueryableByName)]
struct OrderStatistics {
    #[diesel(sql_type = Nullable<Text>)]
    key: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    m_lo: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    m_hi: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p_lo: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p_hi: Option<f64>,
}

/// Median and p90 of resolution hours per group on SQLite: the two order statistics around
/// each rank, picked by a window over the resolved tickets, then interpolated exactly as
/// `percentile_cont` does, so both backends give the same numbers.
fn sqlite_percentiles(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
) -> AppResult<HashMap<Option<String>, Percentiles>> {
    let (key, _) = group_key(by);
    let hours = Dialect::Sqlite.hours("t.resolved_at", "t.created_at");
    let mut sql = Sql::new(conn);
    let _ = write!(
        sql.text,
        "WITH r AS (SELECT {key} AS key, {hours} AS v, \
           ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {hours}) - 1 AS i, \
           COUNT(*) OVER (PARTITION BY {key}) AS n \
         FROM tickets t WHERE t.resolved_at IS NOT NULL"
    );
    sql.filter(f, " AND ");
    let at = |p: &str, offset: &str| {
        format!("MAX(CASE WHEN i = CAST({p} * (n - 1) AS INTEGER){offset} THEN v END)")
    };
    let _ = write!(
        sql.text,
        ") SELECT key, MAX(n) AS n, {} AS m_lo, {} AS m_hi, {} AS p_lo, {} AS p_hi \
         FROM r GROUP BY key",
        at("0.5", ""),
        at("0.5", " + 1"),
        at("0.9", ""),
        at("0.9", " + 1"),
    );
    let rows: Vec<OrderStatistics> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let median = r.m_lo.map(|lo| interpolate(0.5, r.n, lo, r.m_hi));
            let p90 = r.p_lo.map(|lo| interpolate(0.9, r.n, lo, r.p_hi));
            (r.key, (median, p90))
        })
        .collect())
}

/// A group's key, its label (None when the key is NULL or names nothing) and its figures.
pub struct Group {
    pub key: Option<String>,
    pub label: Option<String>,
    pub aggregates: Aggregates,
}

/// The figures per group, or of the whole filter when `by` is None.
pub fn groups(
    conn: &mut DbConn,
    by: Option<GroupBy>,
    f: &Filter,
    now: NaiveDateTime,
) -> AppResult<Vec<Group>> {
    let rows = aggregate_rows(conn, by, f, now)?;
    let visits = site_visits(conn, by, f)?;
    let percentiles = match Dialect::of(conn) {
        Dialect::Postgres => HashMap::new(),
        Dialect::Sqlite => sqlite_percentiles(conn, by, f)?,
    };
    Ok(rows
        .into_iter()
        .map(|row| {
            let mut aggregates = row.aggregates();
            aggregates.site_visits = visits.get(&row.key).copied().unwrap_or(0);
            if let Some(&(median, p90)) = percentiles.get(&row.key) {
                aggregates.median_hours = median;
                aggregates.p90_hours = p90;
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

/// When the filter's oldest ticket was created: where a trend without `from` starts.
pub fn first_created(conn: &mut DbConn, f: &Filter) -> AppResult<Option<NaiveDateTime>> {
    let mut sql = Sql::new(conn);
    sql.push("SELECT MIN(t.created_at) AS first FROM tickets t")
        .filter(f, " WHERE ");
    let rows: Vec<First> = sql.load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.first))
}

#[derive(QueryableByName)]
struct PeriodCount {
    #[diesel(sql_type = BigInt)]
    i: i64,
    #[diesel(sql_type = BigInt)]
    kind: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts per (period index, kind): kind 0 created, 1 resolved, 2 closed, each by the
/// timestamp falling in `[start, end)` of the period. Period bounds are computed by the caller
/// in the configured time zone, so neither backend needs time-zone support.
pub fn period_counts(
    conn: &mut DbConn,
    f: &Filter,
    bounds: &[(NaiveDateTime, NaiveDateTime)],
) -> AppResult<BTreeMap<(usize, usize), i64>> {
    if bounds.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut sql = Sql::new(conn);
    sql.push("WITH p(i, s, e) AS (VALUES ");
    for (i, (start, end)) in bounds.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push("(")
            .bind(Bind::Int(i as i64))
            .push(", ")
            .bind(Bind::Ts(*start))
            .push(", ")
            .bind(Bind::Ts(*end))
            .push(")");
    }
    sql.push(")");
    for (kind, column) in ["t.created_at", "t.resolved_at", "t.closed_at"]
        .into_iter()
        .enumerate()
    {
        if kind > 0 {
            sql.push(" UNION ALL");
        }
        let _ = write!(
            sql.text,
            " SELECT p.i AS i, CAST({kind} AS BIGINT) AS kind, COUNT(*) AS n FROM p \
             JOIN tickets t ON {column} >= p.s AND {column} < p.e"
        );
        sql.filter(f, " WHERE ").push(" GROUP BY p.i");
    }
    let rows: Vec<PeriodCount> = sql.load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| ((r.i as usize, r.kind as usize), r.n))
        .collect())
}
