//! The one application error type and its one mapping to RFC 9457 problem+json.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    /// The request field, dotted for nested objects (`enterprise.credit_code`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    RateLimited {
        retry_after_seconds: u64,
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The problem+json body. `code` is the stable, machine-readable part clients switch on.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[schema(example = "https://qifu.dev/problems/validation_failed")]
    pub r#type: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl AppError {
    pub fn validation(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> AppError {
        AppError::NotFound(format!("{what} not found"))
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) | AppError::MethodNotAllowed(_) => "bad_request",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::PreconditionFailed(_) => "precondition_failed",
            AppError::PayloadTooLarge(_) => "payload_too_large",
            AppError::Validation(_) => "validation_failed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "Bad request",
            AppError::Unauthorized(_) => "Unauthorized",
            AppError::Forbidden(_) => "Forbidden",
            AppError::NotFound(_) => "Not found",
            AppError::MethodNotAllowed(_) => "Method not allowed",
            AppError::Conflict(_) => "Conflict",
            AppError::PreconditionFailed(_) => "Precondition failed",
            AppError::PayloadTooLarge(_) => "Payload too large",
            AppError::Validation(_) => "Validation failed",
            AppError::RateLimited { .. } => "Too many requests",
            AppError::Internal(_) => "Internal server error",
        }
    }

    pub fn problem(&self) -> Problem {
        let (detail, errors) = match self {
            AppError::Validation(errors) => (
                Some(
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                errors.clone(),
            ),
            // Internals stay in the log, keyed by the request id.
            AppError::Internal(_) => (Some("an unexpected error occurred".to_owned()), vec![]),
            other => (Some(other.to_string()), vec![]),
        };
        Problem {
            r#type: format!("https://qifu.dev/problems/{}", self.code()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail,
            code: self.code(),
            errors,
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(e) = self {
            tracing::error!(error = ?e, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        match self {
            AppError::RateLimited {
                retry_after_seconds,
                ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_seconds.to_string()));
            }
            AppError::Unauthorized(_) => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        response.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> AppError {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => AppError::NotFound("not found".to_owned()),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                AppError::Conflict("a record with these values already exists".to_owned())
            }
            other => AppError::Internal(anyhow::Error::new(other).context("database")),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_contract_code_and_matching_status() {
        let cases = [
            (AppError::BadRequest("x".into()), 400, "bad_request"),
            (AppError::Unauthorized("x".into()), 401, "unauthorized"),
            (AppError::Forbidden("x".into()), 403, "forbidden"),
            (AppError::NotFound("x".into()), 404, "not_found"),
            (AppError::Conflict("x".into()), 409, "conflict"),
            (
                AppError::PreconditionFailed("x".into()),
                412,
                "precondition_failed",
            ),
            (
                AppError::PayloadTooLarge("x".into()),
                413,
                "payload_too_large",
            ),
            (AppError::validation("f", "m"), 422, "validation_failed"),
            (
                AppError::RateLimited {
                    retry_after_seconds: 3,
                    detail: "x".into(),
                },
                429,
                "rate_limited",
            ),
            (
                AppError::Internal(anyhow::anyhow!("secret detail")),
                500,
                "internal",
            ),
        ];
        for (error, status, code) in cases {
            let problem = error.problem();
            assert_eq!(problem.status, status);
            assert_eq!(problem.code, code);
            assert_eq!(error.status_code().as_u16(), status);
        }
    }

    #[test]
    fn internal_errors_do_not_leak() {
        let problem = AppError::Internal(anyhow::anyhow!("password=hunter2")).problem();
        assert!(!serde_json::to_string(&problem).unwrap().contains("hunter2"));
    }

    #[test]
    fn validation_lists_fields() {
        let problem = AppError::validation("credit_code", "bad check character").problem();
        assert_eq!(problem.errors[0].field, "credit_code");
        assert!(problem.detail.unwrap().contains("credit_code"));
    }
}
