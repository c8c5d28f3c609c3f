//! Email verification, invitations, and an enterprise's colleagues.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::extract::Auth;
use super::resource;
use crate::error::{AppResult, Problem};
use crate::service::AppState;
use crate::service::accounts::{
    self, AcceptInvitation, Accepted, InviteRequest, Invited, MemberPatch, VerifyEmailRequest,
};
use crate::service::page::Page;
use crate::service::views::{InvitationView, UserView};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/auth/verify-email").route(web::post().to(verify_email)))
        .service(resource("/auth/verify-email/resend").route(web::post().to(resend_verification)))
        .service(resource("/auth/invitations/accept").route(web::post().to(accept_invitation)))
        .service(resource("/enterprise/members").route(web::get().to(list_members)))
        .service(resource("/enterprise/members/{user_id}").route(web::patch().to(update_member)))
        .service(
            resource("/enterprise/invitations")
                .route(web::post().to(invite))
                .route(web::get().to(list_invitations)),
        )
        .service(
            resource("/enterprise/invitations/{id}").route(web::delete().to(revoke_invitation)),
        );
}

/// Confirm an email address with the token mailed to it.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth", request_body = VerifyEmailRequest, responses(
    (status = 204, description = "Verified"),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 422, description = "Unknown, expired or used token", body = Problem)))]
pub async fn verify_email(
    state: web::Data<AppState>,
    body: web::Json<VerifyEmailRequest>,
) -> AppResult<HttpResponse> {
    accounts::verify_email(&state, body.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mail the caller a new verification link (202 whether sent, already verified or throttled).
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "auth", security(("bearer" = [])), responses(
    (status = 202, description = "A link is on its way unless the address is verified or got several within the hour"),
    (status = 401, description = "Not signed in", body = Problem)))]
pub async fn resend_verification(
    state: web::Data<AppState>,
    auth: Auth,
) -> AppResult<HttpResponse> {
    accounts::resend_verification(&state, auth.0).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Accept an invitation: the colleague's account, with a verified email.
#[utoipa::path(post, path = "/api/v1/auth/invitations/accept", tag = "auth", request_body = AcceptInvitation, responses(
    (status = 201, description = "Account created", body = Accepted),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 409, description = "The email registered meanwhile", body = Problem),
    (status = 422, description = "Invalid token, name or password", body = Problem)))]
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
#[utoipa::path(get, path = "/api/v1/enterprise/members", tag = "enterprise", security(("bearer" = [])), responses(
    (status = 200, description = "All of them, on one page", body = Page<UserView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Enterprise users only", body = Problem)))]
pub async fn list_members(state: web::Data<AppState>, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accounts::members(&state, auth.0).await?))
}

/// Promote, demote, deactivate or reactivate a colleague (owners).
#[utoipa::path(patch, path = "/api/v1/enterprise/members/{user_id}", tag = "enterprise", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = MemberPatch, responses(
    (status = 200, description = "Updated", body = UserView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 404, description = "No such colleague", body = Problem),
    (status = 409, description = "The last active owner would step down", body = Problem)))]
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
#[utoipa::path(post, path = "/api/v1/enterprise/invitations", tag = "enterprise", security(("bearer" = [])),
    request_body = InviteRequest, responses(
    (status = 201, description = "Invited", body = Invited),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 409, description = "A user with this email exists", body = Problem),
    (status = 422, description = "Invalid email or name", body = Problem)))]
pub async fn invite(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<InviteRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(accounts::invite(&state, auth.0, body.into_inner()).await?))
}

/// The enterprise's pending invitations (owners).
#[utoipa::path(get, path = "/api/v1/enterprise/invitations", tag = "enterprise", security(("bearer" = [])), responses(
    (status = 200, description = "All of them, on one page", body = Page<InvitationView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem)))]
pub async fn list_invitations(state: web::Data<AppState>, auth: Auth) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accounts::invitations(&state, auth.0).await?))
}

/// Revoke a pending invitation (owners): its token dies.
#[utoipa::path(delete, path = "/api/v1/enterprise/invitations/{id}", tag = "enterprise", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 204, description = "Revoked"),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Owners only", body = Problem),
    (status = 404, description = "No such pending invitation", body = Problem)))]
pub async fn revoke_invitation(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    accounts::revoke_invitation(&state, auth.0, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
