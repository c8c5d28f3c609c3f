//! Extractors: the authenticated principal and the client address.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};

use crate::error::{AppError, ProblemType};
use crate::service::AppState;
use crate::service::auth::Principal;

/// A caller with a valid access token (signature, algorithm, issuer, audience, expiry).
/// Whether the account may still act is checked by the service against the database.
pub struct Auth(pub Principal);

/// Like `Auth`, but anonymous callers are let through as `None`.
pub struct MaybeAuth(pub Option<Principal>);

fn bearer(req: &HttpRequest) -> Result<Option<Principal>, AppError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let invalid = || AppError::new(ProblemType::Unauthorized, "invalid or expired access token");
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or_else(invalid)?;
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("app state missing")))?;
    let claims = state.jwt.verify(token.trim()).ok_or_else(invalid)?;
    Ok(Some(Principal {
        user_id: claims.sub,
        role: claims.role,
        session_id: claims.sid,
        issued_at: claims.iat,
    }))
}

impl FromRequest for Auth {
    type Error = AppError;
    type Future = Ready<Result<Auth, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(bearer(req).and_then(|p| {
            p.map(Auth)
                .ok_or_else(|| AppError::new(ProblemType::Unauthorized, "missing access token"))
        }))
    }
}

impl FromRequest for MaybeAuth {
    type Error = AppError;
    type Future = Ready<Result<MaybeAuth, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(bearer(req).map(MaybeAuth))
    }
}

/// The client's address, for login throttling: the socket peer, or the first
/// X-Forwarded-For hop when `server.trust_forwarded_for` says a proxy sets it.
pub struct ClientIp(pub String);

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<ClientIp, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trusted = req
            .app_data::<web::Data<AppState>>()
            .is_some_and(|s| s.settings.server.trust_forwarded_for);
        let ip = if trusted {
            req.connection_info()
                .realip_remote_addr()
                .map(str::to_owned)
        } else {
            req.peer_addr().map(|a| a.ip().to_string())
        };
        ready(Ok(ClientIp(ip.unwrap_or_else(|| "unknown".to_owned()))))
    }
}
