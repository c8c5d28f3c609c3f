//! HTTP: routes, extractors and DTOs. Handlers are thin: parse, call a service, shape the answer.

pub mod accounts;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod extensions;
pub mod extract;
pub mod filters;
pub mod openapi;
pub mod ops;
pub mod problems;
pub mod stats;
pub mod tickets;

use std::sync::Arc;

use actix_web::dev::ResourceDef;
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, FieldError, ProblemType};

/// Registers every API operation, once: `openapi::document` is collected from these same
/// registrations, so the document lists exactly what is routed.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.configure(ops::routes).service(problems::page).service(
        scope("/api/v1")
            .configure(auth::routes)
            .configure(accounts::routes)
            .configure(admin::routes)
            .configure(calendar::routes)
            .configure(tickets::routes)
            .configure(attachments::routes)
            .configure(extensions::routes)
            .configure(stats::routes),
    );
}

/// The methods each API path answers, read from the OpenAPI document (and so from the router's
/// registrations), for the 405 answers to the other methods.
pub struct MethodTable(Vec<(ResourceDef, Vec<Method>)>);

impl MethodTable {
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Arc<MethodTable> {
        let entries = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    (Method::GET, item.get.is_some()),
                    // Startup's middleware answers HEAD wherever GET is routed.
                    (Method::HEAD, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                ];
                let routed = methods.into_iter().filter(|(_, on)| *on).map(|(m, _)| m);
                (ResourceDef::new(path.as_str()), routed.collect())
            })
            .collect();
        Arc::new(MethodTable(entries))
    }

    /// The methods routed on `path` (by any pattern it matches), in the order `Allow` lists them.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let mut allowed = Vec::new();
        let matching = self.0.iter().filter(|(def, _)| def.is_match(path));
        for method in matching.flat_map(|(_, methods)| methods) {
            if !allowed.contains(method) {
                allowed.push(method.clone());
            }
        }
        allowed
    }

    /// The documented pattern `path` falls under, for labelling a 405 in the metrics (the
    /// router matched nothing, so the request carries no pattern of its own).
    pub fn pattern(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .and_then(|(def, _)| def.pattern())
    }
}

/// Swagger UI loads its scripts and styles from the binary and sets inline styles; nothing
/// else may run, be loaded from elsewhere, or frame it.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Headers every response gets: no content sniffing anywhere, and on the API documentation
/// a content security policy and a refusal to be framed (clickjacking).
pub fn security_headers(path: &str, headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if path == "/docs" || path.starts_with("/docs/") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DOCS_CSP),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(json_error)
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(query_error)
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(path_error)
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::Overflow { limit }
        | JsonPayloadError::OverflowKnownLength { limit, .. } => AppError::new(
            ProblemType::PayloadTooLarge,
            format!("request body is larger than {limit} bytes"),
        ),
        JsonPayloadError::ContentType => AppError::new(
            ProblemType::UnsupportedMediaType,
            "expected Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => data_error(&e.to_string()),
        JsonPayloadError::Deserialize(e) => AppError::new(
            ProblemType::MalformedRequest,
            format!("malformed JSON: {e}"),
        ),
        other => AppError::new(ProblemType::MalformedRequest, other.to_string()),
    };
    app.into()
}

/// A missing field is a well-formed request with an invalid value (422, naming the field);
/// a value of the wrong type is a malformed request (400).
fn data_error(message: &str) -> AppError {
    if let Some(rest) = message.strip_prefix("missing field `")
        && let Some(field) = rest.split('`').next()
    {
        return AppError::Invalid {
            kind: ProblemType::Validation,
            errors: vec![FieldError::new(field, "is required")],
        };
    }
    AppError::new(
        ProblemType::MalformedRequest,
        format!("invalid request body: {message}"),
    )
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::new(
        ProblemType::MalformedRequest,
        format!("invalid query string: {err}"),
    )
    .into()
}

fn path_error(err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::new(ProblemType::NotFound, format!("invalid path: {err}")).into()
}

/// What the router could not match: a method no handler of a documented path takes (405,
/// with `Allow`), else a path that does not exist. Answering 405 here, after the router gave
/// up, keeps the path table off every routed request: guards in front of the handlers made
/// each request match every API pattern's regex twice over, two thirds of a GET's cost.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    if let Some(table) = req.app_data::<web::Data<MethodTable>>() {
        let allowed = table.allowed(req.path());
        if !allowed.is_empty() {
            return Err(AppError::method_not_allowed(&req, allowed));
        }
    }
    Err(AppError::new(
        ProblemType::NotFound,
        format!("no route for {}", req.path()),
    ))
}
