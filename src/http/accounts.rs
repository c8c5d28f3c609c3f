//! Email verification, invitations, and an enterprise's colleagues.

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::Auth;
use crate::error::{AppResult, Problem};
use crate::service::AppState;
use crate::service::accounts::{
    self, AcceptInvitation, Accepted, InviteRequest, Invited, MemberPatch, VerifyEmailRequest,
};
use crate::service::page::Page;
use crate::service::views::{InvitationView, UserView};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(verify_email)
        .service(resend_verification)
        .service(accept_invitation)
        .service(list_members)
        .service(update_member)
        .service(invite)
        .service(list_invitations)
        .service(revoke_invitation);
}

/// Confirm an email address with the token mailed to it.
#[utoipa::path(tag = "auth", request_body = VerifyEmailRequest, responses(
    (status = 204, description = "Verified"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 422, description = "Unknown, expired or used token", body = Problem)))]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Json<VerifyEmailRequest>,
) -> AppResult<HttpResponse> {
    accounts::verify_email(&state, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail the caller a new verification link (202 whether sent, already verified or throttled).
#[utoipa::path(tag = "auth", security(("bearer" = [])), responses(
    (status = 202, description = "A link is on its way unless the address is verified or got several within the hour"),
    (status = 401, description = "Not signed in", body = Problem)))]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    accounts::resend_verification(&state, auth.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Accept an invitation: the colleague's account, with a verified email.
#[utoipa::path(tag = "auth", request_body = AcceptInvitation, responses(
    (status = 201, description = "Account created", body = Accepted),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 409, description = "The email registered meanwhile", body = Problem),
    (status = 422, description = "Invalid token, name or password", body = Problem)))]
#[post("/auth/invitations/accept")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    body: web::Json<AcceptInvitation>,
) -> AppResult<HttpResponse> {
    let accepted = accounts::accept_invitation(&state, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(accepted))
}

/// The users of the caller's enterprise.
#[utoipa::path(tag = "enterprise", security(("bearer" = [])), responses(
    (status = 200, description = "All of them, on one page", body = Page<UserView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Enterprise users only", body = Problem)))]
#[get("/enterprise/members")]
pub async fn list_members(state: web::Data<AppState>, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accounts::members(&state, auth.0).await?))
}

/// Promote, demote, deactivate or reactivate a colleague (owners).
#[utoipa::path(tag = "enterprise", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = MemberPatch, responses(
    (status = 200, description = "Updated", body = UserView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 404, description = "No such colleague", body = Problem),
    (status = 409, description = "The last active owner would step down", body = Problem)))]
#[patch("/enterprise/members/{user_id}")]
pub async fn update_member(
    state: web::Data<AppState>,
    auth: Auth,
    user_id: web::Path<String>,
    body: web::Json<MemberPatch>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        accounts::update_member(&state, auth.0, user_id.into_inner(), body.into_inner()).await?,
    ))
}

/// Invite a colleague by email (owners); a pending invitation to that email is replaced.
#[utoipa::path(tag = "enterprise", security(("bearer" = [])),
    request_body = InviteRequest, responses(
    (status = 201, description = "Invited", body = Invited),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 409, description = "A user with this email exists", body = Problem),
    (status = 422, description = "Invalid email or name", body = Problem)))]
#[post("/enterprise/invitations")]
pub async fn invite(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<InviteRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(accounts::invite(&state, auth.0, body.into_inner()).await?))
}

/// The enterprise's pending invitations (owners).
#[utoipa::path(tag = "enterprise", security(("bearer" = [])), responses(
    (status = 200, description = "All of them, on one page", body = Page<InvitationView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem)))]
#[get("/enterprise/invitations")]
pub async fn list_invitations(state: web::Data<AppState>, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accounts::invitations(&state, auth.0).await?))
}

/// Revoke a pending invitation (owners): its token dies.
#[utoipa::path(tag = "enterprise", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 404, description = "No such pending invitation", body = Problem)))]
#[delete("/enterprise/invitations/{id}")]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    accounts::revoke_invitation(&state, auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
