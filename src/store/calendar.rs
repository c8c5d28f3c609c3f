//! The working calendar's exceptions, one row a day (`YYYY-MM-DD` text keys sort as dates).

use chrono::NaiveDate;
use diesel::prelude::*;

use super::db::DbConn;
use super::schema::calendar_days;
use super::{StoreError, StoreResult};
use crate::domain::calendar::{DayKind, WorkingCalendar};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendar_days)]
pub struct CalendarDayRow {
    pub date: String,
    pub kind: DayKind,
    pub name: String,
}

fn key(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn year_bounds(year: i32) -> (String, String) {
    (format!("{year:04}-01-01"), format!("{year:04}-12-31"))
}

pub fn list_year(conn: &mut DbConn, year: i32) -> StoreResult<Vec<CalendarDayRow>> {
    let (first, last) = year_bounds(year);
    Ok(calendar_days::table
        .filter(calendar_days::date.ge(first))
        .filter(calendar_days::date.le(last))
        .order(calendar_days::date.asc())
        .select(CalendarDayRow::as_select())
        .load(conn)?)
}

/// Replaces a year's exceptions; the caller has checked every date lies in `year`.
pub fn replace_year(
    conn: &mut DbConn,
    year: i32,
    days: &[(NaiveDate, DayKind, String)],
) -> StoreResult<()> {
    let (first, last) = year_bounds(year);
    diesel::delete(
        calendar_days::table
            .filter(calendar_days::date.ge(first))
            .filter(calendar_days::date.le(last)),
    )
    .execute(conn)?;
    // Row by row: multi-row inserts do not compile on the multi-backend connection.
    for (date, kind, name) in days {
        diesel::insert_into(calendar_days::table)
            .values((
                calendar_days::date.eq(key(*date)),
                calendar_days::kind.eq(*kind),
                calendar_days::name.eq(name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The calendar from `from` on (deadlines only look forward; a few dozen rows a year).
pub fn load_from(conn: &mut DbConn, from: NaiveDate) -> StoreResult<WorkingCalendar> {
    let rows: Vec<CalendarDayRow> = calendar_days::table
        .filter(calendar_days::date.ge(key(from)))
        .select(CalendarDayRow::as_select())
        .load(conn)?;
    let mut days = Vec::with_capacity(rows.len());
    for row in rows {
        let date = NaiveDate::parse_from_str(&row.date, "%Y-%m-%d")
            .map_err(|e| StoreError::Corrupt(format!("stored calendar date {}: {e}", row.date)))?;
        days.push((date, row.kind));
    }
    Ok(WorkingCalendar::new(days))
}
