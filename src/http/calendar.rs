//! /calendar: the working calendar's exceptions per year.

use actix_web::{HttpResponse, get, put, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use crate::error::{AppError, AppResult, Problem};
use crate::service::AppState;
use crate::service::calendar::{self, CalendarQuery, CalendarView, CalendarYear};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_calendar).service(replace_calendar);
}

/// A year's exceptions to Monday–Friday: holidays and make-up working days.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(CalendarQuery), responses(
    (status = 200, description = "The year's exceptions", body = CalendarView),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 422, description = "Year out of range", body = Problem)))]
#[get("/calendar")]
pub async fn get_calendar(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<CalendarQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(calendar::get(&state, auth.0, q.into_inner()).await?))
}

/// Replace a year's exceptions (as the State Council announces them).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("year" = i32, Path, minimum = 2000, maximum = 2100)), request_body = CalendarYear, responses(
    (status = 200, description = "The year as stored", body = CalendarView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 422, description = "Dates outside the year, duplicates or unknown kinds", body = Problem)))]
#[put("/calendar/{year}")]
pub async fn replace_calendar(
    state: web::Data<AppState>,
    auth: Auth,
    year: web::Path<String>,
    body: web::Json<CalendarYear>,
) -> AppResult<HttpResponse> {
    let year: i32 = year
        .parse()
        .map_err(|_| AppError::validation("year", "must be a year like 2027"))?;
    Ok(HttpResponse::Ok().json(calendar::replace(&state, auth.0, year, body.into_inner()).await?))
}
