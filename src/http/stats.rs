//! /stats: summary, breakdown and trend, as JSON or CSV.

use actix_web::http::header;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use crate::error::{AppResult, Problem};
use crate::service::AppState;
use crate::service::stats::{self, BreakdownParam, Rendered, StatsQuery, TrendParam};
use crate::stats::{Breakdown, Figures, Trend};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(summary).service(breakdown).service(trend);
}

fn respond<T: Serialize>(rendered: Rendered<T>) -> HttpResponse {
    match rendered {
        Rendered::Json(value) => HttpResponse::Ok().json(value),
        Rendered::Csv { filename, body } => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(body),
    }
}

/// Figures of the tickets created in the range (admins: all; officials: their department).
#[utoipa::path(tag = "stats", security(("bearer" = [])),
    params(StatsQuery), responses(
    (status = 200, description = "The figures; with format=csv a one-row CSV file",
        content((Figures = "application/json"), (String = "text/csv"))),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only; officials only their own department", body = Problem),
    (status = 422, description = "Invalid from, to or format", body = Problem)))]
#[get("/stats/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<StatsQuery>,
) -> AppResult<HttpResponse> {
    Ok(respond(
        stats::summary(&state, auth.0, q.into_inner()).await?,
    ))
}

/// The same figures per department, category, official or enterprise.
#[utoipa::path(tag = "stats", security(("bearer" = [])),
    params(BreakdownParam, StatsQuery), responses(
    (status = 200, description = "One item per group; with format=csv one row per group",
        content((Breakdown = "application/json"), (String = "text/csv"))),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only; officials only their own department", body = Problem),
    (status = 422, description = "Missing or invalid by, or invalid from, to or format", body = Problem)))]
#[get("/stats/breakdown")]
pub async fn breakdown(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<StatsQuery>,
    by: web::Query<BreakdownParam>,
) -> AppResult<HttpResponse> {
    let by = by.into_inner().by;
    Ok(respond(
        stats::breakdown(&state, auth.0, q.into_inner(), by).await?,
    ))
}

/// Tickets created, resolved and closed per day, week or month, every period included.
#[utoipa::path(tag = "stats", security(("bearer" = [])),
    params(TrendParam, StatsQuery), responses(
    (status = 200, description = "One item per period; with format=csv one row per period",
        content((Trend = "application/json"), (String = "text/csv"))),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only; officials only their own department", body = Problem),
    (status = 422, description = "Invalid interval, from, to or format, or too many periods", body = Problem)))]
#[get("/stats/trend")]
pub async fn trend(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<StatsQuery>,
    interval: web::Query<TrendParam>,
) -> AppResult<HttpResponse> {
    let interval = interval.into_inner().interval;
    Ok(respond(
        stats::trend(&state, auth.0, q.into_inner(), interval).await?,
    ))
}
