//! /auth and /me.

use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, ClientIp};
use crate::error::{AppResult, Problem};
use crate::service::AppState;
use crate::service::auth::{
    self, ChangePasswordRequest, LoginRequest, MeView, PasswordResetConfirm, PasswordResetRequest,
    RefreshRequest, RegisterRequest, RegisterResponse, TokenResponse,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(password_reset)
        .service(password_reset_confirm)
        .service(me)
        .service(change_password);
}

/// Register an enterprise and its first user.
#[utoipa::path(tag = "auth", request_body = RegisterRequest, responses(
    (status = 201, description = "Registered", body = RegisterResponse),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 409, description = "Credit code or email already registered", body = Problem),
    (status = 413, description = "Body too large", body = Problem),
    (status = 422, description = "Invalid values (credit code check, password policy…)", body = Problem),
    (status = 429, description = "Too many registrations from this address; see Retry-After", body = Problem)))]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: web::Json<RegisterRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(auth::register(&state, body.into_inner(), ip.0).await?))
}

/// Sign in: an access token (JWT) and a refresh token.
#[utoipa::path(tag = "auth", request_body = LoginRequest, responses(
    (status = 200, description = "Signed in", body = TokenResponse),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Wrong email or password", body = Problem),
    (status = 403, description = "Account deactivated or enterprise suspended", body = Problem),
    (status = 422, description = "Missing fields", body = Problem),
    (status = 429, description = "Too many failures; see Retry-After", body = Problem)))]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: web::Json<LoginRequest>,
) -> AppResult<HttpResponse> {
    Ok(tokens(auth::login(&state, body.into_inner(), ip.0).await?))
}

/// Exchange a refresh token for a new pair; the old one dies.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, description = "A new pair", body = TokenResponse),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Unknown, used, revoked or expired token", body = Problem),
    (status = 422, description = "Missing fields", body = Problem)))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    Ok(tokens(auth::refresh(&state, body.into_inner()).await?))
}

/// Tokens must not stay in a browser's or a proxy's cache.
fn tokens(body: TokenResponse) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// End the session the refresh token belongs to.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses(
    (status = 204, description = "Signed out"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 422, description = "Missing fields", body = Problem)))]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    body: web::Json<RefreshRequest>,
) -> AppResult<HttpResponse> {
    auth::logout(&state, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail a single-use reset token (always 202, registered or not).
#[utoipa::path(tag = "auth", request_body = PasswordResetRequest, responses(
    (status = 202, description = "If the email is registered, a token is on its way"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 422, description = "Missing fields", body = Problem)))]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    ip: ClientIp,
    body: web::Json<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    auth::request_password_reset(&state, body.into_inner(), ip.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with a reset token; every session of the user ends.
#[utoipa::path(tag = "auth", request_body = PasswordResetConfirm, responses(
    (status = 204, description = "Password set"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 422, description = "Invalid token or weak password", body = Problem)))]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    body: web::Json<PasswordResetConfirm>,
) -> AppResult<HttpResponse> {
    auth::confirm_password_reset(&state, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user, with their enterprise or department.
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 200, description = "The caller", body = MeView),
    (status = 401, description = "Not signed in", body = Problem)))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(auth::me(&state, auth.0).await?))
}

/// Change one's own password; every refresh token of the user is revoked.
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest, responses(
    (status = 204, description = "Password changed"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 422, description = "Wrong current password or weak new one", body = Problem),
    (status = 429, description = "Too many wrong current passwords; see Retry-After", body = Problem)))]
#[post("/me/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    auth::change_password(&state, auth.0, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
