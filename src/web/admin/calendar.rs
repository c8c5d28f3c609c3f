//! `/admin/calendar`: a year's holidays and make-up working days (调休上班), one day added or
//! (after confirming) removed at a time. 2026 comes pre-filled by the migration.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{ConfirmPage, admin_submitter, errors_under, require_admin};
use crate::error::{AppError, FieldError};
use crate::service::AppState;
use crate::service::calendar::{self, CalendarDay, CalendarQuery, DayChange};
use crate::web::context::{Ctx, Errors, Visitor, WebError};
use crate::web::i18n::Lang;

const FIELDS: &[&str] = &["day.date", "day.kind", "day.name"];

#[derive(Template)]
#[template(path = "web/admin/calendar.html")]
struct CalendarPage<'a> {
    ctx: &'a Ctx,
    year: i32,
    days: Vec<CalendarDay>,
    form: DayForm,
    errors: Errors,
}

impl CalendarPage<'_> {
    fn year_n(&self) -> i64 {
        i64::from(self.year)
    }

    /// "10月1日 星期四" / "Thu 1 Oct".
    fn date(&self, d: &CalendarDay) -> String {
        match NaiveDate::parse_from_str(&d.date, "%Y-%m-%d") {
            Ok(date) => match self.ctx.lang {
                Lang::ZhCn => format!(
                    "{}月{}日 {}",
                    date.month(),
                    date.day(),
                    self.ctx.t(weekday_key(date.weekday()))
                ),
                Lang::En => date.format("%a %-d %b").to_string(),
            },
            Err(_) => d.date.clone(),
        }
    }

    fn kind(&self, d: &CalendarDay) -> &str {
        self.ctx.t(kind_key(&d.kind))
    }

    fn is_holiday(&self, d: &CalendarDay) -> bool {
        d.kind == "holiday"
    }

    fn name<'b>(&self, d: &'b CalendarDay) -> &'b str {
        d.name.as_deref().unwrap_or("")
    }
}

fn kind_key(kind: &str) -> &'static str {
    if kind == "holiday" {
        "admin.calendar.holiday"
    } else {
        "admin.calendar.workday"
    }
}

fn weekday_key(w: chrono::Weekday) -> &'static str {
    match w {
        chrono::Weekday::Mon => "admin.calendar.mon",
        chrono::Weekday::Tue => "admin.calendar.tue",
        chrono::Weekday::Wed => "admin.calendar.wed",
        chrono::Weekday::Thu => "admin.calendar.thu",
        chrono::Weekday::Fri => "admin.calendar.fri",
        chrono::Weekday::Sat => "admin.calendar.sat",
        chrono::Weekday::Sun => "admin.calendar.sun",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct YearQuery {
    year: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct DayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "day.date")]
    date: String,
    #[serde(default, rename = "day.kind")]
    kind: String,
    #[serde(default, rename = "day.name")]
    name: String,
}

async fn page(
    state: &AppState,
    v: &Visitor,
    year: Option<i32>,
    form: DayForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(v)?;
    let view = calendar::get(state, principal, CalendarQuery { year })
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.render(
        errors.status(),
        &CalendarPage {
            ctx: &v.ctx,
            year: view.year,
            days: view.days,
            form,
            errors,
        },
    )
}

pub async fn show(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<YearQuery>,
) -> Result<HttpResponse, WebError> {
    // A year that is not a number shows the current one.
    let year = q.year.as_deref().and_then(|y| y.trim().parse().ok());
    page(&state, &v, year, DayForm::default(), Errors::default()).await
}

/// The service names the added day `days[N].field`; the form calls it `day.field`.
fn day_errors(ctx: &Ctx, fields: &[FieldError]) -> Errors {
    let renamed: Vec<FieldError> = fields
        .iter()
        .map(|f| {
            let field = f.field.rsplit_once('.').map_or("date", |(_, name)| name);
            FieldError::new(field, f.message.clone())
        })
        .collect();
    errors_under(ctx, "day", &renamed, FIELDS)
}

pub async fn add(
    state: web::Data<AppState>,
    mut v: Visitor,
    year: web::Path<i32>,
    form: web::Form<DayForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let year = year.into_inner();
    let form = form.into_inner();
    let day = CalendarDay {
        date: form.date.trim().to_owned(),
        kind: form.kind.clone(),
        name: Some(form.name.trim().to_owned()).filter(|n| !n.is_empty()),
    };
    let errors = match calendar::change_day(&state, principal, year, DayChange::Add(day)).await {
        Ok(_) => {
            v.ctx.flash_next("flash.calendar_day_added");
            return Ok(v.ctx.redirect(&format!("/admin/calendar?year={year}")));
        }
        Err(AppError::Invalid { errors, .. }) => day_errors(&v.ctx, &errors),
        Err(e) => return Err(v.fail(e)),
    };
    v.ctx.has_errors = true;
    page(&state, &v, Some(year), form, errors).await
}

#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    date: String,
}

pub async fn remove_form(
    state: web::Data<AppState>,
    v: Visitor,
    year: web::Path<i32>,
    q: web::Query<RemoveForm>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let year = year.into_inner();
    let view = calendar::get(&state, principal, CalendarQuery { year: Some(year) })
        .await
        .map_err(|e| v.fail(e))?;
    let day = view
        .days
        .into_iter()
        .find(|d| d.date == q.date)
        .ok_or_else(|| v.fail(AppError::not_found("calendar day")))?;
    let thing = format!(
        "{} {}",
        v.ctx.t(kind_key(&day.kind)),
        day.name.as_deref().unwrap_or("")
    );
    let mut confirm = ConfirmPage::new(
        &v.ctx,
        v.ctx.ts("admin.calendar.remove_h1", &day.date),
        thing.trim().to_owned(),
        "admin.calendar.remove_consequence",
    )
    .post(
        format!("/admin/calendar/{year}/remove"),
        "admin.calendar.remove_submit",
        format!("/admin/calendar?year={year}"),
    );
    confirm.fields.push(("date", day.date.clone()));
    confirm.show()
}

pub async fn remove(
    state: web::Data<AppState>,
    mut v: Visitor,
    year: web::Path<i32>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let year = year.into_inner();
    let change = DayChange::Remove(form.into_inner().date);
    calendar::change_day(&state, principal, year, change)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next("flash.calendar_day_removed");
    Ok(v.ctx.redirect(&format!("/admin/calendar?year={year}")))
}
