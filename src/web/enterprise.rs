//! The enterprise's own pages: its standing and colleagues (`/enterprise`, owners manage),
//! and the links mailed for verifying an email and accepting an invitation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError};
use crate::domain::enterprise::EnterpriseRole;
use crate::error::AppError;
use crate::service::AppState;
use crate::service::accounts::{self, AcceptInvitation, InviteRequest, MemberPatch};
use crate::service::auth::{self, MeView};
use crate::service::views::{InvitationView, UserView};

#[derive(Template)]
#[template(path = "web/verify_email.html")]
struct VerifyPage<'a> {
    ctx: &'a Ctx,
    token: String,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
}

/// The mailed link's page: one button spends the token (a GET never does, so a mail
/// scanner following the link verifies nothing).
pub async fn verify_form(v: Visitor, q: web::Query<TokenQuery>) -> Result<HttpResponse, WebError> {
    v.ctx.render(
        StatusCode::OK,
        &VerifyPage {
            ctx: &v.ctx,
            token: q.into_inner().token,
            errors: Errors::default(),
        },
    )
}

pub async fn verify(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let token = form.into_inner().token.trim().to_owned();
    let req = accounts::VerifyEmailRequest {
        token: token.clone(),
    };
    let errors = match accounts::verify_email(&state, req).await {
        Ok(()) => {
            v.ctx.flash_next("flash.email_verified");
            return Ok(v.ctx.redirect("/"));
        }
        Err(e) => v.ctx.form_errors(e, &["token"])?,
    };
    v.ctx.render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &VerifyPage {
            ctx: &v.ctx,
            token,
            errors,
        },
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn resend(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    accounts::resend_verification(&state, principal)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next("flash.verification_sent");
    Ok(v.ctx.redirect("/enterprise"))
}

#[derive(Template)]
#[template(path = "web/invitation_accept.html")]
struct AcceptPage<'a> {
    ctx: &'a Ctx,
    token: String,
    /// The invited address and the enterprise, while the token works.
    invitation: Option<(String, String)>,
    user_name: String,
    errors: Errors,
}

pub async fn accept_form(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    let token = q.into_inner().token;
    let invitation = accounts::invitation_for(&state, &token)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.render(
        StatusCode::OK,
        &AcceptPage {
            ctx: &v.ctx,
            token,
            invitation,
            user_name: String::new(),
            errors: Errors::default(),
        },
    )
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
}

pub async fn accept(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<AcceptForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let token = form.token.trim().to_owned();
    let req = AcceptInvitation {
        token: token.clone(),
        name: form.name.clone(),
        password: form.password,
    };
    let errors = match accounts::accept_invitation(&state, req).await {
        Ok(_) => {
            v.ctx.flash_next("flash.invitation_accepted");
            return Ok(v.ctx.redirect("/login"));
        }
        Err(e) => v.ctx.form_errors(e, &["token", "name", "password"])?,
    };
    let invitation = accounts::invitation_for(&state, &token)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &AcceptPage {
            ctx: &v.ctx,
            token,
            invitation,
            user_name: form.name,
            errors,
        },
    )
}

#[derive(Template)]
#[template(path = "web/enterprise.html")]
struct EnterprisePage<'a> {
    ctx: &'a Ctx,
    me: MeView,
    members: Vec<UserView>,
    invitations: Vec<InvitationView>,
    owner: bool,
    email: String,
    errors: Errors,
}

impl EnterprisePage<'_> {
    fn status(&self) -> &'static str {
        self.me
            .enterprise
            .as_ref()
            .map_or("", |e| e.status.as_str())
    }

    fn status_key(&self) -> &'static str {
        match self.status() {
            "pending" => "enterprise.status_pending",
            "rejected" => "enterprise.status_rejected",
            "suspended" => "enterprise.status_suspended",
            _ => "enterprise.status_active",
        }
    }

    fn reason(&self) -> &str {
        self.me
            .enterprise
            .as_ref()
            .and_then(|e| e.status_reason.as_deref())
            .unwrap_or("")
    }

    fn is_owner(u: &UserView) -> bool {
        u.enterprise_role == Some(EnterpriseRole::Owner)
    }
}

async fn enterprise_page(
    state: &AppState,
    v: &Visitor,
    email: String,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let me = auth::me(state, principal.clone())
        .await
        .map_err(|e| v.fail(e))?;
    let members = accounts::members(state, principal.clone())
        .await
        .map_err(|e| v.fail(e))?
        .items;
    let owner = me.enterprise_role == Some(EnterpriseRole::Owner);
    let invitations = if owner {
        accounts::invitations(state, principal)
            .await
            .map_err(|e| v.fail(e))?
            .items
    } else {
        Vec::new()
    };
    v.ctx.render(
        errors.status(),
        &EnterprisePage {
            ctx: &v.ctx,
            me,
            members,
            invitations,
            owner,
            email,
            errors,
        },
    )
}

pub async fn show(state: web::Data<AppState>, v: Visitor) -> Result<HttpResponse, WebError> {
    enterprise_page(&state, &v, String::new(), Errors::default()).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn invite(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let email = form.into_inner().email;
    let req = InviteRequest {
        email: email.clone(),
        name: None,
    };
    let errors = match accounts::invite(&state, principal, req).await {
        Ok(_) => {
            v.ctx.flash_next("flash.invited");
            return Ok(v.ctx.redirect("/enterprise"));
        }
        Err(e) if e.kind() == crate::error::ProblemType::EmailTaken => {
            let field = crate::error::FieldError::new("email", e.kind().title().en);
            Errors::from_fields(&v.ctx, &[field], &["email"])
        }
        Err(e) => v.ctx.form_errors(e, &["email"])?,
    };
    v.ctx.has_errors = true;
    enterprise_page(&state, &v, email, errors).await
}

pub async fn revoke(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    accounts::revoke_invitation(&state, principal, id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next("flash.invitation_revoked");
    Ok(v.ctx.redirect("/enterprise"))
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: String,
    /// `owner`, `member`, `deactivate` or `activate`: one button each.
    #[serde(default)]
    change: String,
}

pub async fn update_member(
    state: web::Data<AppState>,
    mut v: Visitor,
    user_id: web::Path<String>,
    form: web::Form<MemberForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let patch = match form.change.as_str() {
        "owner" => MemberPatch {
            enterprise_role: Some(EnterpriseRole::Owner),
            active: None,
        },
        "member" => MemberPatch {
            enterprise_role: Some(EnterpriseRole::Member),
            active: None,
        },
        "deactivate" => MemberPatch {
            enterprise_role: None,
            active: Some(false),
        },
        "activate" => MemberPatch {
            enterprise_role: None,
            active: Some(true),
        },
        _ => return Err(v.fail(AppError::validation("change", "unknown change"))),
    };
    match accounts::update_member(&state, principal, user_id.into_inner(), patch).await {
        Ok(_) => v.ctx.flash_next("flash.member_saved"),
        Err(e) if e.kind() == crate::error::ProblemType::LastOwner => {
            v.ctx.flash_next("flash.last_owner");
        }
        Err(e) => return Err(v.fail(e)),
    }
    Ok(v.ctx.redirect("/enterprise"))
}
