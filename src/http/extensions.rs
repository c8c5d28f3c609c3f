//! /tickets/{id}/extensions: extension requests (延期) and their approval.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use super::tickets::header_value;
use crate::domain::ids::{ExtensionId, TicketId};
use crate::error::{AppError, AppResult, Problem, ProblemType};
use crate::service::AppState;
use crate::service::extensions::{self, Decision, ExtensionView, NewExtensionRequest};
use crate::service::page::Page;
use crate::service::tickets::TimelineQuery;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(request_extension)
        .service(list_extensions)
        .service(decide_extension);
}

/// The assignee asks for more working days on an open ticket.
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path),
           ("If-Match" = Option<String>, Header, description = "The ticket version you read, e.g. \"3\"")),
    request_body = NewExtensionRequest, responses(
    (status = 201, description = "Requested", body = ExtensionView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Only the assignee", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 409, description = "Another request is pending, or the ticket is not open", body = Problem),
    (status = 412, description = "If-Match is stale", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/tickets/{id}/extensions")]
pub async fn request_extension(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    body: web::Json<NewExtensionRequest>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let if_match = header_value(&req, "if-match");
    let id = id.into_inner();
    Ok(HttpResponse::Created()
        .json(extensions::request(&state, auth.0, id, body.into_inner(), if_match).await?))
}

/// A ticket's extension requests, oldest first (enterprises see approved ones).
#[utoipa::path(tag = "tickets", security(("bearer" = [])),
    params(("id" = String, Path), TimelineQuery), responses(
    (status = 200, description = "A page of extensions", body = Page<ExtensionView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 404, description = "No such ticket in your scope", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/tickets/{id}/extensions")]
pub async fn list_extensions(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<TicketId>,
    q: web::Query<TimelineQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(extensions::list(&state, auth.0, id.into_inner(), q.into_inner()).await?))
}

/// An admin approves (moving `due_at` later by the working days) or rejects a request.
#[utoipa::path(tag = "tickets",
    security(("bearer" = [])),
    params(("id" = String, Path), ("eid" = String, Path),
           ("decision" = String, Path, description = "approve or reject"),
           ("If-Match" = Option<String>, Header, description = "The ticket version you read, e.g. \"3\"")),
    request_body = Decision, responses(
    (status = 200, description = "Decided", body = ExtensionView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such ticket, extension or decision", body = Problem),
    (status = 409, description = "Decided already, or the ticket is not open", body = Problem),
    (status = 412, description = "If-Match is stale", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/tickets/{id}/extensions/{eid}/actions/{decision}")]
pub async fn decide_extension(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(TicketId, ExtensionId, String)>,
    body: web::Json<Decision>,
    req: HttpRequest,
) -> AppResult<HttpResponse> {
    let (id, eid, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(AppError::new(
                ProblemType::NotFound,
                format!("no decision {other}; approve or reject"),
            ));
        }
    };
    let if_match = header_value(&req, "if-match");
    let body = body.into_inner();
    Ok(HttpResponse::Ok()
        .json(extensions::decide(&state, auth.0, id, eid, approve, body, if_match).await?))
}
