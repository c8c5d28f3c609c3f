//! /tickets: filing, queues, actions, comments, timeline.

use actix_web::http::header::{self, ETAG};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use crate::domain::ids::TicketId;
use crate::domain::ticket::Action;
use crate::error::{AppError, AppResult, Problem, ProblemType};
use crate::service::AppState;
use crate::service::page::Page;
use crate::service::tickets::{
    self, ActionRequest, CommentView, CreateTicket, EventView, Filed, NewComment, TicketQuery,
    TicketView, TimelineQuery,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get)
        .service(events)
        .service(comment)
        .service(comments)
        .service(act);
}

pub(super) fn header_value(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

fn with_etag(status: actix_web::http::StatusCode, ticket: &TicketView) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((ETAG, format!("\"{}\"", ticket.version)))
        .json(ticket)
}

/// File a ticket; it is routed at once.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), request_body = CreateTicket,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for the same body")),
    responses(
    (status = 201, description = "Filed", body = TicketView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Enterprise users only", body = Problem),
    (status = 413, description = "Body too large", body = Problem),
    (status = 422, description = "Invalid values, or an Idempotency-Key reused with another body", body = Problem),
    (status = 429, description = "Too many filings by this user; see Retry-After", body = Problem)))]
#[post("/tickets")]
pub async fn create(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
    body: web::Json<CreateTicket>,
) -> AppResult<HttpResponse> {
    let key = header_value(&req, "idempotency-key");
    match tickets::create(&state, auth.0, body.into_inner(), key).await? {
        Filed::New(ticket) => Ok(with_etag(actix_web::http::StatusCode::CREATED, &ticket)),
        Filed::Replay { outcome, body } => Ok(HttpResponse::build(match outcome {
            crate::service::idempotency::Outcome::Created => actix_web::http::StatusCode::CREATED,
        })
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .insert_header(("Idempotent-Replayed", "true"))
        .body(body)),
    }
}

/// The caller's queue: filters, sort, keyset pages.
#[utoipa::path(tag = "tickets", security(("bearer" = [])), params(TicketQuery), responses(
    (status = 200, description = "A page", body = Page<TicketView>),
    (status = 400, description = "Malformed query", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 422, description = "Invalid filter, sort, limit or cursor", body = Problem)))]
#[get("/tickets")]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).map_err(|e| {
            AppError::new(
                ProblemType::MalformedRequest,
                format!("invalid query string: {e}"),
            )
        })?;
    let filter = super::filters::ticket_list(pairs, state.settings.time_zone())?;
    Ok(HttpResponse::Ok().json(tickets::list(&state, auth.0, filter).await?))
}

/// One ticket, with its version as ETag.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "The ticket", body = TicketView, headers(("ETag" = String))),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem)))]
#[get("/tickets/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
) -> AppResult<HttpResponse> {
    let ticket = tickets::get(&state, auth.0, id.into_inner()).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &ticket))
}

/// The timeline, oldest first (staff-only entries hidden from enterprises).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path), TimelineQuery), responses(
    (status = 200, description = "A page of events", body = Page<EventView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/tickets/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    q: web::Query<TimelineQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(tickets::events(&state, auth.0, id.into_inner(), q.into_inner()).await?))
}

/// Add a message or (staff) a work record.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewComment, responses(
    (status = 201, description = "Added", body = CommentView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Enterprises may post messages only", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/tickets/{id}/comments")]
pub async fn comment(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    body: web::Json<NewComment>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created()
        .json(tickets::comment(&state, auth.0, id.into_inner(), body.into_inner()).await?))
}

/// Comments, oldest first (enterprises see messages only).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path), TimelineQuery), responses(
    (status = 200, description = "A page of comments", body = Page<CommentView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/tickets/{id}/comments")]
pub async fn comments(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    q: web::Query<TimelineQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(tickets::comments(&state, auth.0, id.into_inner(), q.into_inner()).await?))
}

/// Move a ticket through its lifecycle: assign, accept, return, resolve, confirm, reopen,
/// cancel, close, request_info (the assignee asks the enterprise; the clock stops),
/// provide_info (the enterprise answers; `due_at` moves later by the pause).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path), ("action" = Action, Path),
           ("If-Match" = Option<String>, Header, description = "The version you read, e.g. \"3\"")),
    request_body = ActionRequest, responses(
    (status = 200, description = "The changed ticket", body = TicketView, headers(("ETag" = String))),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Not yours to do", body = Problem),
    (status = 404, description = "No such ticket in your scope, or no such action", body = Problem),
    (status = 409, description = "Not allowed from the current status, or changed concurrently", body = Problem),
    (status = 412, description = "If-Match is stale", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/tickets/{id}/actions/{action}")]
pub async fn act(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(TicketId, String)>,
    req: HttpRequest,
    body: web::Json<ActionRequest>,
) -> AppResult<HttpResponse> {
    let (id, action) = path.into_inner();
    let action: Action = action.parse().map_err(|_| {
        AppError::new(
            ProblemType::NotFound,
            format!("no action {action}; see the API documentation"),
        )
    })?;
    let if_match = header_value(&req, "if-match");
    let ticket = tickets::act(&state, auth.0, id, action, body.into_inner(), if_match).await?;
    Ok(with_etag(actix_web::http::StatusCode::OK, &ticket))
}
