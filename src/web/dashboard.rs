//! The statistics dashboard: the figures of `service::stats` as cards, charts and sortable
//! tables, with the API's CSV files for download. Nothing here computes a figure; it only
//! formats, orders and draws what the service returns.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::charts::{self, Bar, Series};
use super::context::{Ctx, Errors, Visitor, WebError};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::console::{self, DepartmentGroup};
use crate::service::stats::{self as svc, Dashboard, Rendered, StatsQuery};
use crate::stats::{Breakdown, Figures, GroupBy, Interval, Trend, UNASSIGNED};

/// The dashboard's query string: the API's filters, the trend's interval and one sort per
/// table, so every view is a link that can be shared. `from` and `to` given but empty mean no
/// bound; both missing means this month (see `show`).
#[derive(Deserialize, Default, Clone)]
pub struct DashboardQuery {
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    department_id: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    sort_department: String,
    #[serde(default)]
    sort_category: String,
    #[serde(default)]
    sort_official: String,
    #[serde(default)]
    sort_enterprise: String,
    #[serde(default)]
    sort_trend: String,
    /// For the breakdown CSV.
    #[serde(default)]
    by: String,
}

fn some(v: &str) -> Option<String> {
    let v = v.trim();
    (!v.is_empty()).then(|| v.to_owned())
}

impl DashboardQuery {
    pub fn from_value(&self) -> &str {
        self.from.as_deref().unwrap_or_default()
    }

    pub fn to_value(&self) -> &str {
        self.to.as_deref().unwrap_or_default()
    }

    fn stats(&self, format: Option<&str>) -> StatsQuery {
        StatsQuery {
            from: some(self.from_value()),
            to: some(self.to_value()),
            department_id: some(&self.department_id),
            category_id: some(&self.category_id),
            format: format.map(str::to_owned),
        }
    }

    /// The interval asked for, else one that gives a readable chart for the range: days up
    /// to two months, weeks up to a year, months beyond or without both bounds.
    fn interval(&self) -> String {
        if let Some(i) = some(&self.interval) {
            return i;
        }
        let date = |v: &str| NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok();
        match (date(self.from_value()), date(self.to_value())) {
            (Some(f), Some(t)) if (t - f).num_days() <= 62 => "day",
            (Some(f), Some(t)) if (t - f).num_days() <= 370 => "week",
            _ => "month",
        }
        .to_owned()
    }

    /// This view's query string with some parameters replaced (empty ones left out, except
    /// the bounds: an empty one is "no bound", a missing one "this month").
    fn link(&self, path: &str, changes: &[(&str, &str)]) -> String {
        let interval = self.interval();
        let mut pairs: Vec<(&str, Option<&str>)> = vec![
            ("from", self.from.as_deref().map(str::trim)),
            ("to", self.to.as_deref().map(str::trim)),
            ("department_id", Some(self.department_id.trim())),
            ("category_id", Some(self.category_id.trim())),
            ("interval", Some(&interval)),
            ("sort_department", Some(&self.sort_department)),
            ("sort_category", Some(&self.sort_category)),
            ("sort_official", Some(&self.sort_official)),
            ("sort_enterprise", Some(&self.sort_enterprise)),
            ("sort_trend", Some(&self.sort_trend)),
        ];
        for (k, v) in changes {
            match pairs.iter_mut().find(|(name, _)| name == k) {
                Some(pair) => pair.1 = Some(v),
                None => pairs.push((k, Some(v))),
            }
        }
        let kept: Vec<(&str, &str)> = pairs
            .into_iter()
            .filter_map(|(k, v)| {
                let v = v?;
                (!v.is_empty() || k == "from" || k == "to").then_some((k, v))
            })
            .collect();
        match serde_urlencoded::to_string(kept) {
            Ok(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path.to_owned(),
        }
    }

    fn sort_of(&self, table: &str) -> &str {
        match table {
            "department" => &self.sort_department,
            "category" => &self.sort_category,
            "official" => &self.sort_official,
            "enterprise" => &self.sort_enterprise,
            _ => &self.sort_trend,
        }
    }

    /// Only the API's filters and the interval: what a CSV link carries.
    fn filters_only(&self) -> DashboardQuery {
        DashboardQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            department_id: self.department_id.clone(),
            category_id: self.category_id.clone(),
            interval: self.interval(),
            ..DashboardQuery::default()
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Count,
    Rate,
    Hours,
    Score,
}

/// The columns of a breakdown table, as named in the API's JSON.
const COLUMNS: [(&str, Kind); 13] = [
    ("total", Kind::Count),
    ("response_rate", Kind::Rate),
    ("resolution_rate", Kind::Rate),
    ("on_time_rate", Kind::Rate),
    ("avg_first_response_hours", Kind::Hours),
    ("median_resolution_hours", Kind::Hours),
    ("p90_resolution_hours", Kind::Hours),
    ("satisfaction_rate", Kind::Rate),
    ("satisfaction_avg", Kind::Score),
    ("reopen_rate", Kind::Rate),
    ("extension_rate", Kind::Rate),
    ("site_visits", Kind::Count),
    ("overdue_open", Kind::Count),
];

/// The cards, in reading order.
const FIGURES: [(&str, Kind); 14] = [
    ("total", Kind::Count),
    ("response_rate", Kind::Rate),
    ("resolution_rate", Kind::Rate),
    ("on_time_rate", Kind::Rate),
    ("satisfaction_rate", Kind::Rate),
    ("avg_first_response_hours", Kind::Hours),
    ("avg_resolution_hours", Kind::Hours),
    ("median_resolution_hours", Kind::Hours),
    ("p90_resolution_hours", Kind::Hours),
    ("satisfaction_avg", Kind::Score),
    ("reopen_rate", Kind::Rate),
    ("extension_rate", Kind::Rate),
    ("site_visits", Kind::Count),
    ("overdue_open", Kind::Count),
];

fn metric(m: &Figures, key: &str) -> Option<f64> {
    let n = |v: i64| Some(v as f64);
    match key {
        "total" => n(m.total),
        "response_rate" => m.response_rate,
        "resolution_rate" => m.resolution_rate,
        "on_time_rate" => m.on_time_rate,
        "satisfaction_rate" => m.satisfaction_rate,
        "avg_first_response_hours" => m.avg_first_response_hours,
        "avg_resolution_hours" => m.avg_resolution_hours,
        "median_resolution_hours" => m.median_resolution_hours,
        "p90_resolution_hours" => m.p90_resolution_hours,
        "satisfaction_avg" => m.satisfaction_avg,
        "reopen_rate" => m.reopen_rate,
        "extension_rate" => m.extension_rate,
        "site_visits" => n(m.site_visits),
        "overdue_open" => n(m.overdue_open),
        _ => None,
    }
}

/// One number on the page: as the API gives it (`data-value`, for tests and scrapers) and as
/// people read it.
pub struct Cell {
    pub raw: String,
    pub text: String,
}

fn cell(ctx: &Ctx, value: Option<f64>, kind: Kind) -> Cell {
    let Some(v) = value else {
        return Cell {
            raw: String::new(),
            text: ctx.t("dash.none").to_owned(),
        };
    };
    let text = match kind {
        Kind::Count => format!("{v:.0}"),
        Kind::Rate => format!("{:.1}%", v * 100.0),
        Kind::Hours => format!("{v:.1}"),
        Kind::Score => format!("{v:.2}"),
    };
    Cell {
        raw: v.to_string(),
        text,
    }
}

pub struct Figure {
    pub metric: &'static str,
    pub label: String,
    pub cell: Cell,
    pub unit: String,
}

pub struct Head {
    pub label: String,
    /// The sort link, for sortable tables.
    pub href: Option<String>,
    pub aria_sort: Option<&'static str>,
}

pub struct Row {
    pub label: String,
    pub cells: Vec<Cell>,
    sort_keys: Vec<Option<f64>>,
}

/// A chart with its table: the SVG, then the same numbers as rows.
pub struct Table {
    pub id: String,
    pub heading: String,
    pub caption: String,
    pub label_head: Head,
    pub heads: Vec<Head>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Row>,
    pub chart: String,
    pub csv: Option<String>,
    /// Says how many rows the page left out: the CSV has them all.
    pub more: Option<String>,
}

/// A breakdown table shows at most this many rows (`dash.more` says so); the CSV has every
/// one. The trend's table shows every period the chart does.
const MAX_ROWS: usize = 50;
/// A bar chart shows at most this many groups.
const MAX_BARS: usize = 15;

struct Sort {
    column: Option<usize>,
    descending: bool,
}

/// `sort_x=column.asc|desc`; anything else keeps the service's order.
fn parse_sort(value: &str, columns: &[&str]) -> Option<(Option<usize>, bool)> {
    let (name, dir) = value.split_once('.')?;
    let descending = match dir {
        "asc" => false,
        "desc" => true,
        _ => return None,
    };
    if name == "label" {
        return Some((None, descending));
    }
    let i = columns.iter().position(|c| *c == name)?;
    Some((Some(i), descending))
}

fn sort_rows(rows: &mut [Row], sort: &Sort) {
    rows.sort_by(|a, b| {
        let order = match sort.column {
            None => a.label.cmp(&b.label),
            Some(i) => match (a.sort_keys[i], b.sort_keys[i]) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                // Rows without a value go last either way.
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            },
        };
        if sort.descending {
            order.reverse()
        } else {
            order
        }
    });
}

struct TableSpec<'a> {
    id: &'a str,
    table: &'a str,
    heading: String,
    label_head: String,
    columns: Vec<(&'static str, Kind)>,
    /// The order the rows come in, which a table without `sort=` shows.
    natural: (Option<usize>, bool),
    limit: Option<usize>,
    csv: Option<String>,
}

fn build_table(
    ctx: &Ctx,
    q: &DashboardQuery,
    spec: TableSpec,
    mut rows: Vec<Row>,
    chart: String,
) -> Table {
    let names: Vec<&'static str> = spec.columns.iter().map(|(c, _)| *c).collect();
    let asked = parse_sort(q.sort_of(spec.table), &names);
    if let Some((column, descending)) = asked {
        sort_rows(&mut rows, &Sort { column, descending });
    }
    let (current, descending) = asked.unwrap_or(spec.natural);
    let sortable = rows.len() > 1;
    let head = |column: Option<usize>, label: String| {
        let is_current = current == column;
        let next = match (is_current, descending, column) {
            (true, true, _) => "asc",
            (true, false, _) => "desc",
            (false, _, None) => "asc",
            (false, _, Some(_)) => "desc",
        };
        let name = column.map_or("label", |i| names[i]);
        let param = format!("sort_{}", spec.table);
        let value = format!("{name}.{next}");
        Head {
            label,
            href: sortable.then(|| {
                format!(
                    "{}#{}",
                    q.link("/dashboard", &[(param.as_str(), value.as_str())]),
                    spec.id
                )
            }),
            aria_sort: is_current.then_some(if descending {
                "descending"
            } else {
                "ascending"
            }),
        }
    };
    let heads = spec
        .columns
        .iter()
        .enumerate()
        .map(|(i, (c, _))| head(Some(i), ctx.t(&format!("dash.col.{c}")).to_owned()))
        .collect();
    let limit = spec.limit.unwrap_or(usize::MAX);
    let left_out = rows.len().saturating_sub(limit) as i64;
    let more = (left_out > 0).then(|| ctx.tf("dash.more", &left_out));
    rows.truncate(limit);
    Table {
        id: spec.id.to_owned(),
        caption: spec.heading.clone(),
        heading: spec.heading,
        label_head: head(None, spec.label_head),
        heads,
        columns: names,
        rows,
        chart,
        csv: spec.csv,
        more,
    }
}

fn group_label(ctx: &Ctx, label: &str, key: &Option<String>) -> String {
    if key.is_none() && label == UNASSIGNED {
        ctx.t("dash.unassigned").to_owned()
    } else {
        label.to_owned()
    }
}

fn breakdown_table(ctx: &Ctx, q: &DashboardQuery, by: GroupBy, b: &Breakdown) -> Table {
    let table = by.as_str();
    let heading = ctx.t(&format!("dash.by.{table}")).to_owned();
    let rows: Vec<Row> = b
        .items
        .iter()
        .map(|item| {
            let values: Vec<Option<f64>> = COLUMNS
                .iter()
                .map(|(c, _)| metric(&item.metrics, c))
                .collect();
            Row {
                label: group_label(ctx, &item.label, &item.key),
                cells: values
                    .iter()
                    .zip(COLUMNS)
                    .map(|(v, (_, kind))| cell(ctx, *v, kind))
                    .collect(),
                sort_keys: values,
            }
        })
        .collect();
    let bars: Vec<Bar> = b
        .items
        .iter()
        .take(MAX_BARS)
        .map(|item| {
            let rate = cell(ctx, item.metrics.resolution_rate, Kind::Rate).text;
            Bar {
                label: group_label(ctx, &item.label, &item.key),
                value: item.metrics.total as f64,
                text: ctx
                    .tf("dash.bar_text", &item.metrics.total)
                    .replace("{x}", &rate),
            }
        })
        .collect();
    let desc = match b.items.first() {
        Some(top) => ctx
            .tf("dash.bar_desc", &top.metrics.total)
            .replace("{x}", &group_label(ctx, &top.label, &top.key)),
        None => ctx.t("dash.empty").to_owned(),
    };
    let chart = charts::hbar(
        &format!("chart-{table}"),
        &ctx.ts("dash.bar_title", &heading),
        &desc,
        &bars,
    );
    let csv = q
        .filters_only()
        .link("/dashboard/breakdown.csv", &[("by", table)]);
    build_table(
        ctx,
        q,
        TableSpec {
            id: &format!("by-{table}"),
            table,
            label_head: ctx.t(&format!("dash.group.{table}")).to_owned(),
            heading,
            columns: COLUMNS.to_vec(),
            natural: (Some(0), true),
            limit: Some(MAX_ROWS),
            csv: Some(csv),
        },
        rows,
        chart,
    )
}

fn period_label(ctx: &Ctx, interval: Interval, start: NaiveDate, short: bool) -> String {
    match (interval, short) {
        (Interval::Month, _) => start.format("%Y-%m").to_string(),
        (_, true) => start.format("%m-%d").to_string(),
        (Interval::Week, false) => ctx.ts("dash.week_of", &start.to_string()),
        (Interval::Day, false) => start.to_string(),
    }
}

fn trend_table(ctx: &Ctx, q: &DashboardQuery, interval: Interval, t: &Trend) -> Table {
    let columns = [
        ("created", Kind::Count),
        ("resolved", Kind::Count),
        ("closed", Kind::Count),
    ];
    let rows = t
        .items
        .iter()
        .map(|p| {
            let values = vec![
                Some(p.created as f64),
                Some(p.resolved as f64),
                Some(p.closed as f64),
            ];
            Row {
                label: period_label(ctx, interval, p.period_start, false),
                cells: values.iter().map(|v| cell(ctx, *v, Kind::Count)).collect(),
                sort_keys: values,
            }
        })
        .collect();
    let labels: Vec<String> = t
        .items
        .iter()
        .map(|p| period_label(ctx, interval, p.period_start, true))
        .collect();
    let series: Vec<Series> = columns
        .iter()
        .map(|(c, _)| Series {
            name: ctx.t(&format!("dash.col.{c}")).to_owned(),
            values: t
                .items
                .iter()
                .map(|p| match *c {
                    "created" => p.created,
                    "resolved" => p.resolved,
                    _ => p.closed,
                } as f64)
                .collect(),
        })
        .collect();
    let heading = ctx
        .t(&format!("dash.trend.{}", interval.as_str()))
        .to_owned();
    let chart = charts::line(
        "chart-trend",
        &heading,
        ctx.t("dash.trend_desc"),
        &labels,
        &series,
    );
    let csv = q.filters_only().link("/dashboard/trend.csv", &[]);
    build_table(
        ctx,
        q,
        TableSpec {
            id: "trend",
            table: "trend",
            heading,
            label_head: ctx.t("dash.period").to_owned(),
            columns: columns.to_vec(),
            natural: (None, false),
            limit: None,
            csv: Some(csv),
        },
        rows,
        chart,
    )
}

fn satisfaction_table(ctx: &Ctx, q: &DashboardQuery, m: &Figures) -> Table {
    let d = &m.satisfaction_distribution;
    let counts = [d.one, d.two, d.three, d.four, d.five];
    let rows: Vec<Row> = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| Row {
            label: ctx.t(&format!("rating.{}", i + 1)).to_owned(),
            cells: vec![cell(ctx, Some(n as f64), Kind::Count)],
            sort_keys: vec![Some(n as f64)],
        })
        .collect();
    let bars: Vec<Bar> = rows
        .iter()
        .zip(counts)
        .map(|(r, n)| Bar {
            label: r.label.clone(),
            value: n as f64,
            text: n.to_string(),
        })
        .collect();
    let heading = ctx.t("dash.satisfaction").to_owned();
    let chart = charts::hbar(
        "chart-satisfaction",
        &heading,
        &ctx.tf("dash.satisfaction_desc", &m.rated),
        &bars,
    );
    let mut t = build_table(
        ctx,
        q,
        TableSpec {
            id: "satisfaction",
            table: "satisfaction",
            heading,
            label_head: ctx.t("dash.rating").to_owned(),
            columns: vec![("rated", Kind::Count)],
            natural: (None, false),
            limit: None,
            csv: None,
        },
        rows,
        chart,
    );
    // Five fixed rows read best in rating order.
    t.label_head.href = None;
    t.label_head.aria_sort = None;
    for h in &mut t.heads {
        h.href = None;
        h.aria_sort = None;
    }
    t
}

fn figures(ctx: &Ctx, m: &Figures) -> Vec<Figure> {
    FIGURES
        .iter()
        .map(|(key, kind)| Figure {
            metric: key,
            label: ctx.t(&format!("dash.fig.{key}")).to_owned(),
            cell: cell(ctx, metric(m, key), *kind),
            unit: match kind {
                Kind::Hours if metric(m, key).is_some() => ctx.t("dash.hours").to_owned(),
                Kind::Score if metric(m, key).is_some() => ctx.t("dash.of_five").to_owned(),
                _ => String::new(),
            },
        })
        .collect()
}

fn headline(ctx: &Ctx, m: &Figures) -> String {
    let text = |v: Option<f64>, kind| cell(ctx, v, kind).text;
    ctx.tf("dash.headline", &m.total)
        .replace("{response}", &text(m.response_rate, Kind::Rate))
        .replace("{resolution}", &text(m.resolution_rate, Kind::Rate))
        .replace("{satisfied}", &text(m.satisfaction_rate, Kind::Rate))
        .replace("{on_time}", &text(m.on_time_rate, Kind::Rate))
        .replace("{satisfaction}", &text(m.satisfaction_avg, Kind::Score))
}

/// What the page shows once the filters are valid.
pub struct Body {
    pub figures: Vec<Figure>,
    pub tables: Vec<Table>,
    pub scope: String,
    /// The main figures in one sentence: what a reader (or a printed report) needs first.
    pub headline: String,
    pub summary_csv: String,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "web/dashboard.html")]
struct DashboardPage<'a> {
    ctx: &'a Ctx,
    q: DashboardQuery,
    /// The trend's choices: value, label, whether it is the one shown.
    intervals: Vec<(&'static str, String, bool)>,
    is_admin: bool,
    groups: Vec<DepartmentGroup>,
    errors: Errors,
    body: Option<Body>,
}

const FILTER_FIELDS: [&str; 4] = ["from", "to", "department_id", "interval"];

fn scope_text(ctx: &Ctx, q: &DashboardQuery, d: &Dashboard, groups: &[DepartmentGroup]) -> String {
    let range = match (some(q.from_value()), some(q.to_value())) {
        (Some(f), Some(t)) => ctx.ts("dash.scope_range", &f).replace("{y}", &t),
        (Some(f), None) => ctx.ts("dash.scope_from", &f),
        (None, Some(t)) => ctx.ts("dash.scope_to", &t),
        (None, None) => ctx.t("dash.scope_all").to_owned(),
    };
    let department = match &d.department_id {
        None => ctx.t("dash.all_departments").to_owned(),
        Some(id) => d
            .breakdowns
            .iter()
            .flat_map(|(_, b)| b.items.iter())
            .find(|i| i.key.as_ref() == Some(id))
            .map(|i| i.label.clone())
            .or_else(|| groups.iter().find(|g| &g.id == id).map(|g| g.name.clone()))
            .unwrap_or_else(|| id.clone()),
    };
    let category = match some(&q.category_id) {
        None => ctx.t("dash.all_categories").to_owned(),
        Some(id) => groups
            .iter()
            .flat_map(|g| g.categories.iter())
            .find(|c| c.id == id)
            .map_or(id, |c| c.name.clone()),
    };
    format!("{range} · {department} · {category}")
}

pub async fn show(
    state: web::Data<AppState>,
    mut v: Visitor,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let is_admin = principal.role == Role::Admin;
    let mut q = q.into_inner();
    if q.from.is_none() && q.to.is_none() {
        // All time is a slow query on a big history and rarely the question; a month is.
        let today = state
            .clock
            .now_utc()
            .with_timezone(&state.settings.time_zone())
            .date_naive();
        q.from = Some(Interval::Month.start_of(today).to_string());
        q.to = Some(today.to_string());
        return Ok(v.ctx.redirect(&q.link("/dashboard", &[])));
    }
    let interval = q.interval();
    let result = svc::dashboard(&state, principal, q.stats(None), Some(interval.clone())).await;
    let mut groups = console::catalogue(&state).await.map_err(|e| v.fail(e))?;
    let (status, errors, body) = match result {
        Ok(d) => {
            if !is_admin {
                groups.retain(|g| d.department_id.as_ref() == Some(&g.id));
            }
            let interval = interval.parse().unwrap_or(Interval::Month);
            let mut tables = vec![
                trend_table(&v.ctx, &q, interval, &d.trend),
                satisfaction_table(&v.ctx, &q, &d.summary),
            ];
            for (by, b) in &d.breakdowns {
                // An official's figures are their department's: one row says nothing.
                if *by == GroupBy::Department && !is_admin {
                    continue;
                }
                tables.push(breakdown_table(&v.ctx, &q, *by, b));
            }
            let body = Body {
                figures: figures(&v.ctx, &d.summary),
                scope: scope_text(&v.ctx, &q, &d, &groups),
                headline: headline(&v.ctx, &d.summary),
                summary_csv: q.filters_only().link("/dashboard/summary.csv", &[]),
                total: d.summary.total,
                tables,
            };
            (StatusCode::OK, Errors::default(), Some(body))
        }
        Err(e) => {
            let errors = v.ctx.form_errors(e, &FILTER_FIELDS)?;
            (StatusCode::UNPROCESSABLE_ENTITY, errors, None)
        }
    };
    v.ctx.render(
        status,
        &DashboardPage {
            ctx: &v.ctx,
            q,
            intervals: ["day", "week", "month"]
                .into_iter()
                .map(|i| {
                    let label = v.ctx.t(&format!("dash.interval_{i}")).to_owned();
                    (i, label, i == interval)
                })
                .collect(),
            is_admin,
            groups,
            errors,
            body,
        },
    )
}

fn download<T>(v: &Visitor, rendered: Rendered<T>) -> Result<HttpResponse, WebError> {
    match rendered {
        Rendered::Csv { filename, body } => {
            Ok(v.ctx.download(&filename, "text/csv; charset=utf-8", body))
        }
        Rendered::Json(_) => Err(v.fail(AppError::Internal(anyhow::anyhow!(
            "a CSV report came back as JSON"
        )))),
    }
}

/// The summary as the API's CSV, for the dashboard's filters.
pub async fn summary_csv(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let r = svc::summary(&state, principal, q.stats(Some("csv")))
        .await
        .map_err(|e| v.fail(e))?;
    download(&v, r)
}

pub async fn breakdown_csv(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let by = some(&q.by);
    let r = svc::breakdown(&state, principal, q.stats(Some("csv")), by)
        .await
        .map_err(|e| v.fail(e))?;
    download(&v, r)
}

pub async fn trend_csv(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<DashboardQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let r = svc::trend(&state, principal, q.stats(Some("csv")), Some(q.interval()))
        .await
        .map_err(|e| v.fail(e))?;
    download(&v, r)
}

#[cfg(test)]
mod tests {
    use super::super::i18n::{Catalogues, Lang};
    use super::*;

    /// The keys this page builds at run time, which the catalogue scan cannot see.
    #[test]
    fn every_built_key_exists_in_both_languages() {
        let all = Catalogues::load().unwrap();
        let mut keys: Vec<String> = Vec::new();
        for (c, _) in COLUMNS {
            keys.push(format!("dash.col.{c}"));
        }
        for c in ["created", "resolved", "closed", "rated"] {
            keys.push(format!("dash.col.{c}"));
        }
        for (f, _) in FIGURES {
            keys.push(format!("dash.fig.{f}"));
        }
        for by in [
            GroupBy::Department,
            GroupBy::Category,
            GroupBy::Official,
            GroupBy::Enterprise,
        ] {
            keys.push(format!("dash.by.{}", by.as_str()));
            keys.push(format!("dash.group.{}", by.as_str()));
        }
        for i in ["day", "week", "month"] {
            keys.push(format!("dash.trend.{i}"));
            keys.push(format!("dash.interval_{i}"));
        }
        for lang in Lang::ALL {
            for key in &keys {
                assert!(all.get(lang).has(key), "{lang:?}: {key}");
            }
        }
    }

    fn row(label: &str, v: Option<f64>) -> Row {
        Row {
            label: label.into(),
            cells: vec![],
            sort_keys: vec![v],
        }
    }

    #[test]
    fn sorting_puts_missing_values_last_both_ways() {
        let labels = |rows: &[Row]| rows.iter().map(|r| r.label.clone()).collect::<Vec<_>>();
        let mut rows = vec![row("b", None), row("a", Some(0.5)), row("c", Some(0.9))];
        sort_rows(
            &mut rows,
            &Sort {
                column: Some(0),
                descending: true,
            },
        );
        assert_eq!(labels(&rows), ["c", "a", "b"]);
        sort_rows(
            &mut rows,
            &Sort {
                column: Some(0),
                descending: false,
            },
        );
        assert_eq!(labels(&rows), ["a", "c", "b"]);
        sort_rows(
            &mut rows,
            &Sort {
                column: None,
                descending: false,
            },
        );
        assert_eq!(labels(&rows), ["a", "b", "c"]);
    }

    #[test]
    fn sort_values_name_a_column_and_a_direction() {
        let cols = ["total", "on_time_rate"];
        assert_eq!(
            parse_sort("on_time_rate.asc", &cols),
            Some((Some(1), false))
        );
        assert_eq!(parse_sort("label.desc", &cols), Some((None, true)));
        assert_eq!(parse_sort("nope.desc", &cols), None);
        assert_eq!(parse_sort("total", &cols), None);
        assert_eq!(parse_sort("total.sideways", &cols), None);
    }

    #[test]
    fn links_keep_the_filters_and_pick_an_interval_for_the_range() {
        let q = DashboardQuery {
            from: Some("2026-11-01".into()),
            to: Some("2026-11-30".into()),
            sort_category: "total.asc".into(),
            ..DashboardQuery::default()
        };
        assert_eq!(q.interval(), "day");
        assert_eq!(
            q.link("/dashboard", &[("sort_trend", "created.desc")]),
            "/dashboard?from=2026-11-01&to=2026-11-30&interval=day&sort_category=total.asc&sort_trend=created.desc"
        );
        assert_eq!(
            q.filters_only()
                .link("/dashboard/breakdown.csv", &[("by", "official")]),
            "/dashboard/breakdown.csv?from=2026-11-01&to=2026-11-30&interval=day&by=official"
        );
        let year = DashboardQuery {
            from: Some("2026-01-01".into()),
            to: Some("2026-12-31".into()),
            ..DashboardQuery::default()
        };
        assert_eq!(year.interval(), "week");
        let all_time = DashboardQuery {
            from: Some(String::new()),
            to: Some(String::new()),
            ..DashboardQuery::default()
        };
        assert_eq!(all_time.interval(), "month");
        assert_eq!(
            all_time.link("/dashboard", &[]),
            "/dashboard?from=&to=&interval=month"
        );
    }
}
