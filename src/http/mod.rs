//! HTTP: routes, extractors and DTOs. Handlers are thin: parse, call a service, shape the answer.

pub mod accounts;
pub mod admin;
pub mod attachments;
pub mod auth;
pub mod calendar;
pub mod extensions;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod problems;
pub mod stats;
pub mod tickets;

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::{self, HeaderMap, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::{AppError, FieldError, ProblemType};

/// Registers every route. Each path is a resource with an explicit 405 for other methods.
pub fn routes(cfg: &mut web::ServiceConfig) {
    ops::routes(cfg);
    cfg.service(resource("/problems/{slug}").route(web::get().to(problems::page)));
    cfg.service(
        web::scope("/api/v1")
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

pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::new(
        ProblemType::NotFound,
        format!("no route for {}", req.path()),
    ))
}

pub async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::new(
        ProblemType::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

/// `web::resource(path)` that answers 405 for methods it has no route for.
pub fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}
