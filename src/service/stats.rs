//! Statistics: who may see which tickets' figures, and the filters in the query string.

use chrono::{Duration, NaiveDateTime};
use serde::Deserialize;
use utoipa::IntoParams;

use super::AppState;
use super::auth::{Actor, Principal, load_actor};
use super::validate::Checks;
use super::validate::parse_bound;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, ProblemType};
use crate::service::Db;
use crate::stats::{
    self, Breakdown, BreakdownItem, Figures, Filter, GroupBy, Interval, Trend, UNASSIGNED,
};
use crate::stats::{query, rollup};
use crate::store::db::DbConn;

/// The filters every statistics endpoint takes.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// Tickets created from: a local date (`2026-11-01`) or an RFC 3339 timestamp; inclusive.
    pub from: Option<String>,
    /// Tickets created until: a local date (inclusive: the whole day) or an RFC 3339 timestamp
    /// (exclusive).
    pub to: Option<String>,
    /// One department (officials: only their own).
    pub department_id: Option<String>,
    pub category_id: Option<String>,
    /// `json` (default) or `csv` (UTF-8 with BOM, a header row).
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

/// `by` of the breakdown.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownParam {
    /// department, category, official or enterprise
    #[param(
        required = true,
        pattern = "^(department|category|official|enterprise)$"
    )]
    pub by: Option<String>,
}

/// `interval` of the trend.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParam {
    /// day (default), week (starting Monday) or month, in the configured time zone
    #[param(pattern = "^(day|week|month)$")]
    pub interval: Option<String>,
}

/// A report as JSON, or as a CSV file to download.
pub enum Rendered<T> {
    Json(T),
    Csv { filename: String, body: Vec<u8> },
}

struct Parsed {
    filter: Filter,
    csv: bool,
    /// The name part the CSV file gets from the bounds, e.g. `2026-01-01-2026-03-31`.
    range: String,
}

fn parse(q: &StatsQuery, tz: chrono_tz::Tz, checks: &mut Checks) -> Parsed {
    let mut bound = |field: &str, value: &Option<String>, end: bool| {
        value.as_deref().and_then(|v| {
            parse_bound(field, v, tz, end)
                .map_err(|_| {
                    checks.fail(
                        field,
                        "must be a date (2026-11-01) or an RFC 3339 timestamp",
                    )
                })
                .ok()
        })
    };
    let from = bound("from", &q.from, false);
    let to = bound("to", &q.to, true);
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        checks.fail("to", "must be after from");
    }
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            checks.fail("format", "must be json or csv");
            false
        }
    };
    let name = |v: &Option<String>, none: &str| {
        v.as_deref().map_or(none.to_owned(), |v| {
            v.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect()
        })
    };
    let non_empty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    Parsed {
        filter: Filter {
            from,
            to,
            department_id: non_empty(&q.department_id),
            category_id: non_empty(&q.category_id),
        },
        csv,
        range: format!("{}-{}", name(&q.from, "all"), name(&q.to, "now")),
    }
}

/// Admins see every ticket; an official only their own department's; enterprises nothing.
fn scope(actor: &Actor, filter: &mut Filter) -> AppResult<()> {
    match actor.role {
        Role::Admin => Ok(()),
        Role::Official => {
            let own = actor.department_id.clone().ok_or_else(|| {
                AppError::new(
                    ProblemType::OtherDepartment,
                    "statistics need a department; you have none",
                )
            })?;
            if filter
                .department_id
                .as_ref()
                .is_some_and(|d| *d != own.as_str())
            {
                return Err(AppError::new(
                    ProblemType::OtherDepartment,
                    "officials see their own department's statistics only",
                ));
            }
            filter.department_id = Some(own.into());
            Ok(())
        }
        Role::Enterprise => Err(AppError::forbidden("statistics are for staff")),
    }
}

fn render<T>(
    value: T,
    parsed: &Parsed,
    what: &str,
    to_csv: fn(&T) -> AppResult<Vec<u8>>,
) -> AppResult<Rendered<T>> {
    if parsed.csv {
        Ok(Rendered::Csv {
            filename: format!("qifu-stats-{what}-{}.csv", parsed.range),
            body: to_csv(&value)?,
        })
    } else {
        Ok(Rendered::Json(value))
    }
}

/// Whether the rollups answer (the bounds are local day starts of the zone they were cut in,
/// and they have the grouping's grain); otherwise the tickets do.
fn from_rollups(
    conn: &mut DbConn,
    tz: chrono_tz::Tz,
    by: Option<GroupBy>,
    filter: &Filter,
) -> AppResult<bool> {
    rollup::usable(conn, tz.name(), by, filter)
}

fn summary_of(
    conn: &mut DbConn,
    filter: &Filter,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> AppResult<Figures> {
    let groups = if from_rollups(conn, tz, None, filter)? {
        rollup::groups(conn, None, filter, now)?
    } else {
        query::groups(conn, None, filter, now)?
    };
    let aggregates = groups
        .first()
        .map(|g| g.aggregates.clone())
        .unwrap_or_default();
    Ok(Figures::from(&aggregates))
}

fn breakdown_of(
    conn: &mut DbConn,
    by: GroupBy,
    filter: &Filter,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> AppResult<Breakdown> {
    let groups = if from_rollups(conn, tz, Some(by), filter)? {
        rollup::groups(conn, Some(by), filter, now)?
    } else {
        query::groups(conn, Some(by), filter, now)?
    };
    let mut items: Vec<BreakdownItem> = groups
        .into_iter()
        .map(|g| BreakdownItem {
            label: match (&g.key, g.label) {
                (Some(_), Some(label)) => label,
                (Some(key), None) => key.clone(),
                (None, _) => UNASSIGNED.to_owned(),
            },
            key: g.key,
            metrics: Figures::from(&g.aggregates),
        })
        .collect();
    stats::sort_items(&mut items);
    Ok(Breakdown { items })
}

fn trend_of(
    conn: &mut DbConn,
    interval: Interval,
    filter: &Filter,
    now: NaiveDateTime,
    tz: chrono_tz::Tz,
) -> AppResult<Trend> {
    let rollups = from_rollups(conn, tz, None, filter)?;
    let first = match filter.from {
        Some(from) => Some(from),
        None if rollups => rollup::first_created(conn, filter)?,
        None => query::first_created(conn, filter)?,
    };
    let Some(first) = first else {
        return Ok(Trend { items: vec![] });
    };
    // The last instant inside the range: `to` itself is exclusive.
    let last: NaiveDateTime = filter.to.map_or(now, |t| t - Duration::microseconds(1));
    let starts = stats::periods(
        interval,
        stats::local_day(first, tz),
        stats::local_day(last.max(first), tz),
    )?;
    let bounds = stats::period_bounds(interval, &starts, tz);
    let counts = if rollups {
        rollup::period_counts(conn, filter, &bounds)?
    } else {
        query::period_counts(conn, filter, &bounds)?
    };
    Ok(stats::fill_trend(&starts, &counts))
}

fn parse_by(by: Option<&str>, checks: &mut Checks) -> GroupBy {
    match by {
        None => {
            checks.fail(
                "by",
                "is required: department, category, official or enterprise",
            );
            GroupBy::Department
        }
        Some(v) => v.parse().unwrap_or_else(|_| {
            checks.fail("by", "must be department, category, official or enterprise");
            GroupBy::Department
        }),
    }
}

fn parse_interval(interval: Option<&str>, checks: &mut Checks) -> Interval {
    match interval {
        None => Interval::Day,
        Some(v) => v.parse().unwrap_or_else(|_| {
            checks.fail("interval", "must be day, week or month");
            Interval::Day
        }),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn summary(
    state: &AppState,
    principal: Principal,
    q: StatsQuery,
) -> AppResult<Rendered<Figures>> {
    let mut checks = Checks::new();
    let tz = state.settings.time_zone();
    let parsed = parse(&q, tz, &mut checks);
    let now = state.clock.now();
    let (metrics, parsed) = state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let mut filter = parsed.filter.clone();
            scope(&actor, &mut filter)?;
            checks.done()?;
            Ok((summary_of(conn, &filter, now, tz)?, parsed))
        })
        .await?;
    render(metrics, &parsed, "summary", stats::summary_csv)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn breakdown(
    state: &AppState,
    principal: Principal,
    q: StatsQuery,
    by: Option<String>,
) -> AppResult<Rendered<Breakdown>> {
    let mut checks = Checks::new();
    let tz = state.settings.time_zone();
    let parsed = parse(&q, tz, &mut checks);
    let by = parse_by(by.as_deref(), &mut checks);
    let now = state.clock.now();
    let (breakdown, parsed) = state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let mut filter = parsed.filter.clone();
            scope(&actor, &mut filter)?;
            checks.done()?;
            Ok((breakdown_of(conn, by, &filter, now, tz)?, parsed))
        })
        .await?;
    let what = format!("breakdown-{}", by.as_str());
    render(breakdown, &parsed, &what, stats::breakdown_csv)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn trend(
    state: &AppState,
    principal: Principal,
    q: StatsQuery,
    interval: Option<String>,
) -> AppResult<Rendered<Trend>> {
    let tz = state.settings.time_zone();
    let mut checks = Checks::new();
    let parsed = parse(&q, tz, &mut checks);
    let interval = parse_interval(interval.as_deref(), &mut checks);
    let now = state.clock.now();
    let (trend, parsed) = state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let mut filter = parsed.filter.clone();
            scope(&actor, &mut filter)?;
            checks.done()?;
            Ok((trend_of(conn, interval, &filter, now, tz)?, parsed))
        })
        .await?;
    let what = format!("trend-{}", interval.as_str());
    render(trend, &parsed, &what, stats::trend_csv)
}

/// Everything the console's dashboard shows, from the same queries as the three reports.
pub struct Dashboard {
    /// The department the figures are pinned to: the filter's, or an official's own.
    pub department_id: Option<String>,
    pub summary: Figures,
    pub trend: Trend,
    /// Department, category, official and enterprise, in that order.
    pub breakdowns: Vec<(GroupBy, Breakdown)>,
}

/// The summary, the trend and every breakdown for one set of filters, in one unit of work,
/// under the same authorization as the API's reports.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn dashboard(
    state: &AppState,
    principal: Principal,
    q: StatsQuery,
    interval: Option<String>,
) -> AppResult<Dashboard> {
    let tz = state.settings.time_zone();
    let mut checks = Checks::new();
    let parsed = parse(&q, tz, &mut checks);
    let interval = parse_interval(interval.as_deref(), &mut checks);
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let mut filter = parsed.filter;
            scope(&actor, &mut filter)?;
            checks.done()?;
            let mut breakdowns = Vec::new();
            for by in [
                GroupBy::Department,
                GroupBy::Category,
                GroupBy::Official,
                GroupBy::Enterprise,
            ] {
                breakdowns.push((by, breakdown_of(conn, by, &filter, now, tz)?));
            }
            Ok(Dashboard {
                summary: summary_of(conn, &filter, now, tz)?,
                trend: trend_of(conn, interval, &filter, now, tz)?,
                department_id: filter.department_id,
                breakdowns,
            })
        })
        .await
}

/// `qifu stats rebuild`: recomputes the rollups from the tickets with local days in `tz`, in
/// one transaction. Needed after `stats.time_zone` changes (until then the reports read the
/// tickets). Returns how many tickets were counted.
pub async fn rebuild_rollups(db: &Db, tz: chrono_tz::Tz) -> AppResult<i64> {
    db.write(move |conn| rollup::rebuild(conn, tz)).await
}
