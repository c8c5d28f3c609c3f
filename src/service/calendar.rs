//! The working calendar: read by anyone signed in, a year replaced by admins.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Principal, load_actor};
use super::validate::Checks;
use crate::config::Settings;
use crate::domain::calendar::{DayKind, WorkingCalendar};
use crate::domain::role::Role;
use crate::domain::sla::{self, Sla, SlaClock};
use crate::domain::ticket::Priority;
use crate::error::{AppError, AppResult};
use crate::store::calendar as store;
use crate::store::db::DbConn;

/// Years the calendar accepts: wide enough for any real deadline, narrow enough to keep
/// `YYYY-MM-DD` keys four-digit.
const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`, within the year.
    #[schema(value_type = String, format = Date, example = "2026-10-01")]
    pub date: String,
    /// `holiday` (a day off) or `workday` (a weekend day worked in exchange, 调休上班).
    #[schema(example = "holiday")]
    pub kind: String,
    /// What the day is, e.g. 国庆节.
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarView {
    pub year: i32,
    /// The exceptions to Monday–Friday, in date order.
    pub days: Vec<CalendarDay>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CalendarYear {
    /// Every exception of the year; replaces what was there.
    pub days: Vec<CalendarDay>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// Default: the current year in `stats.time_zone`.
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}

fn check_year(year: i32) -> AppResult<()> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(AppError::validation(
            "year",
            "must be a year from 2000 to 2100",
        ))
    }
}

fn view(year: i32, rows: Vec<store::CalendarDayRow>) -> CalendarView {
    CalendarView {
        year,
        days: rows
            .into_iter()
            .map(|r| CalendarDay {
                date: r.date,
                kind: r.kind.as_str().to_owned(),
                name: Some(r.name),
            })
            .collect(),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn get(
    state: &AppState,
    principal: Principal,
    q: CalendarQuery,
) -> AppResult<CalendarView> {
    let now = state.clock.now();
    let tz = state.settings.time_zone();
    let year = q
        .year
        .unwrap_or_else(|| super::views::ts(now).with_timezone(&tz).year());
    check_year(year)?;
    state
        .db
        .read(move |conn| {
            load_actor(conn, &principal)?;
            Ok(view(year, store::list_year(conn, year)?))
        })
        .await
}

/// Every bad day is reported at once, by its index: dates outside the year, a date given
/// twice, an unknown kind.
fn check_days(year: i32, days: &[CalendarDay]) -> AppResult<Vec<(NaiveDate, DayKind, String)>> {
    let mut checks = Checks::new();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(days.len());
    if days.len() > 366 {
        checks.fail("days", "a year has at most 366 days");
    }
    for (i, day) in days.iter().enumerate() {
        let date = match NaiveDate::parse_from_str(day.date.trim(), "%Y-%m-%d") {
            Ok(d) if d.year() == year => Some(d),
            Ok(_) => {
                checks.fail(&format!("days[{i}].date"), format!("must lie in {year}"));
                None
            }
            Err(_) => {
                checks.fail(&format!("days[{i}].date"), "must be a date like 2026-10-01");
                None
            }
        };
        if let Some(d) = date
            && !seen.insert(d)
        {
            checks.fail(&format!("days[{i}].date"), format!("{d} is given twice"));
        }
        let kind = day.kind.parse::<DayKind>().ok();
        if kind.is_none() {
            checks.fail(&format!("days[{i}].kind"), "must be holiday or workday");
        }
        let name = checks
            .optional_text(&format!("days[{i}].name"), day.name.as_deref(), 100)
            .unwrap_or_default();
        if let (Some(d), Some(k)) = (date, kind) {
            out.push((d, k, name));
        }
    }
    checks.done()?;
    out.sort_by_key(|(d, _, _)| *d);
    Ok(out)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, year = %year))]
pub async fn replace(
    state: &AppState,
    principal: Principal,
    year: i32,
    req: CalendarYear,
) -> AppResult<CalendarView> {
    check_year(year)?;
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Admin])?;
            let days = check_days(year, &req.days)?;
            store::replace_year(conn, year, &days)?;
            Ok(view(year, store::list_year(conn, year)?))
        })
        .await
}

/// One day added to a year or taken out of it.
pub enum DayChange {
    Add(CalendarDay),
    /// The day's `YYYY-MM-DD`.
    Remove(String),
}

/// Changes one day of a year: read, checked and written in one transaction, so two admins
/// editing the same year cannot undo each other's day. An added day is checked as the last
/// of the year (`days[N]`), so its errors name it alone.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, year = %year))]
pub async fn change_day(
    state: &AppState,
    principal: Principal,
    year: i32,
    change: DayChange,
) -> AppResult<CalendarView> {
    check_year(year)?;
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            actor.require(&[Role::Admin])?;
            let mut days = view(year, store::list_year(conn, year)?).days;
            match change {
                DayChange::Add(day) => days.push(day),
                DayChange::Remove(date) => {
                    let before = days.len();
                    days.retain(|d| d.date != date);
                    if days.len() == before {
                        return Err(AppError::not_found("calendar day"));
                    }
                }
            }
            let days = check_days(year, &days)?;
            store::replace_year(conn, year, &days)?;
            Ok(view(year, store::list_year(conn, year)?))
        })
        .await
}

/// The calendar a deadline computed from `from` (naive UTC) needs: from the day before, so
/// the local date is covered whatever the time zone.
fn load(conn: &mut DbConn, from: NaiveDateTime) -> AppResult<WorkingCalendar> {
    Ok(store::load_from(
        conn,
        from.date().pred_opt().unwrap_or(from.date()),
    )?)
}

/// Deadline arithmetic with the settings it needs, reading the calendar from the caller's
/// transaction; cheap to copy into a blocking closure.
#[derive(Clone, Copy, Debug)]
pub struct Deadlines {
    pub tz: chrono_tz::Tz,
    pub workday_end: NaiveTime,
    pub warn_at_fraction: f64,
}

impl Deadlines {
    pub fn of(settings: &Settings) -> Deadlines {
        Deadlines {
            tz: settings.time_zone(),
            workday_end: settings.workday_end(),
            warn_at_fraction: settings.tickets.warn_at_fraction,
        }
    }

    fn with<T>(
        &self,
        conn: &mut DbConn,
        from: NaiveDateTime,
        f: impl FnOnce(&SlaClock) -> T,
    ) -> AppResult<T> {
        let calendar = load(conn, from)?;
        Ok(f(&SlaClock {
            calendar: &calendar,
            tz: self.tz,
            workday_end: self.workday_end,
        }))
    }

    pub fn due_at(
        &self,
        conn: &mut DbConn,
        sla: Sla,
        filed_at: NaiveDateTime,
        priority: Priority,
    ) -> AppResult<NaiveDateTime> {
        match sla {
            // No calendar needed: calendar hours.
            Sla::Hours(h) => Ok(sla::due_at(filed_at, h, priority)),
            Sla::WorkingDays(_) => self.with(conn, filed_at, |c| c.due_at(sla, filed_at, priority)),
        }
    }

    pub fn resumed(
        &self,
        conn: &mut DbConn,
        sla: Sla,
        due_at: NaiveDateTime,
        paused_at: NaiveDateTime,
        resumed_at: NaiveDateTime,
    ) -> AppResult<NaiveDateTime> {
        self.with(conn, paused_at.min(due_at), |c| {
            c.resumed(sla, due_at, paused_at, resumed_at)
        })
    }

    pub fn extended(
        &self,
        conn: &mut DbConn,
        due_at: NaiveDateTime,
        days: u32,
    ) -> AppResult<NaiveDateTime> {
        self.with(conn, due_at, |c| c.extended(due_at, days))
    }

    pub fn warn_at(&self, from: NaiveDateTime, due_at: NaiveDateTime) -> NaiveDateTime {
        sla::warn_at(from, due_at, self.warn_at_fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, kind: &str) -> CalendarDay {
        CalendarDay {
            date: date.to_owned(),
            kind: kind.to_owned(),
            name: None,
        }
    }

    #[test]
    fn every_bad_day_is_named() {
        let err = check_days(
            2027,
            &[
                day("2027-01-01", "holiday"),
                day("2026-12-31", "holiday"),
                day("2027-01-01", "workday"),
                day("2027-02-30", "holiday"),
                day("2027-03-01", "vacation"),
            ],
        )
        .unwrap_err();
        let AppError::Invalid { errors, .. } = err else {
            panic!("not a validation error")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "days[1].date",
                "days[2].date",
                "days[3].date",
                "days[4].kind"
            ]
        );
    }

    #[test]
    fn good_days_come_back_sorted() {
        let days = check_days(
            2027,
            &[day("2027-10-01", "holiday"), day("2027-01-01", "holiday")],
        )
        .unwrap();
        assert_eq!(days[0].0.to_string(), "2027-01-01");
        assert!(check_days(2027, &[]).unwrap().is_empty());
    }
}
