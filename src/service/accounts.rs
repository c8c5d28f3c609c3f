//! Enterprise accounts: verified emails, colleagues (owners invite and manage members), and
//! what an enterprise's standing allows.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::{Actor, Principal, hash_password, load_actor, policy_error};
use super::page::Page;
use super::validate::Checks;
use super::views::{InvitationView, UserView, ts};
use super::{AppState, quota};
use crate::auth::{random_token, sha256_hex};
use crate::domain::enterprise::{EnterpriseRole, EnterpriseStatus, leaves_an_owner};
use crate::domain::role::Role;
use crate::domain::throttle::Quota;
use crate::error::{AppError, AppResult, ProblemType};
use crate::mail::Templates;
use crate::store::accounts::{self, NewInvitation};
use crate::store::db::DbConn;
use crate::store::users::{self, NewUser, UserChanges, UserRow};
use crate::store::{enterprises, outbox, sessions};

/// What composing account mail needs; cheap to clone into a blocking closure.
#[derive(Clone)]
pub struct AccountMail {
    templates: Arc<Templates>,
    public_url: String,
    verification_hours: i64,
    per_address: Quota,
}

/// Spends one of the address's mails for the hour (`limits.mail_per_address_per_hour`, shared
/// with password-reset mail): false when spent, and the caller then answers as usual but
/// sends nothing, so nobody can flood a mailbox through us.
fn may_mail(
    conn: &mut DbConn,
    email: &str,
    per_address: &Quota,
    now: NaiveDateTime,
) -> AppResult<bool> {
    Ok(quota::spend(conn, &format!("mail:{email}"), per_address, now)?.is_ok())
}

impl AccountMail {
    pub fn of(state: &AppState) -> AccountMail {
        AccountMail {
            templates: state.templates.clone(),
            public_url: state
                .settings
                .server
                .public_url
                .trim_end_matches('/')
                .to_owned(),
            verification_hours: state.settings.auth.email_verification_hours,
            per_address: quota::mail_per_address(&state.settings.limits),
        }
    }

    /// Issues a verification token for the user and queues its mail, in the caller's
    /// transaction. Registration calls it directly (an address registers once, under the
    /// registration quota); a resend spends the address's mail quota first.
    pub fn start_verification(
        &self,
        conn: &mut DbConn,
        user: &UserRow,
        now: NaiveDateTime,
    ) -> AppResult<()> {
        let token = random_token();
        let mail = self
            .templates
            .compose(
                "verify_email",
                &user.locale,
                &user.email,
                &serde_json::json!({
                    "name": user.name,
                    "token": token,
                    "valid_hours": self.verification_hours,
                    "link": format!("{}/verify-email?token={token}", self.public_url),
                }),
            )?
            .carrying_secret();
        accounts::insert_verification(
            conn,
            &user.id,
            &sha256_hex(&token),
            now + Duration::hours(self.verification_hours),
            now,
        )?;
        outbox::enqueue(conn, &mail, now)?;
        Ok(())
    }
}

/// Filing needs an approved, active enterprise and, when the district requires it, a verified
/// email.
pub fn may_file(actor: &Actor, require_verification: bool) -> AppResult<()> {
    match actor.enterprise_status {
        Some(EnterpriseStatus::Pending) => {
            return Err(AppError::new(
                ProblemType::EnterprisePending,
                "the enterprise is waiting for the district's review",
            ));
        }
        Some(EnterpriseStatus::Rejected) => {
            return Err(AppError::new(
                ProblemType::EnterpriseRejected,
                "the enterprise's registration was rejected",
            ));
        }
        _ => {}
    }
    if require_verification && !actor.email_verified {
        return Err(AppError::new(
            ProblemType::EmailUnverified,
            "verify your email address before filing",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyEmailRequest {
    pub token: String,
}

fn token_invalid() -> AppError {
    AppError::invalid(
        ProblemType::TokenInvalid,
        "token",
        "is invalid, expired or already used",
    )
}

#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, req: VerifyEmailRequest) -> AppResult<()> {
    let hash = sha256_hex(req.token.trim());
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let user_id =
                accounts::use_verification(conn, &hash, now)?.ok_or_else(token_invalid)?;
            Ok(users::set_email_verified(conn, &user_id, now)?)
        })
        .await
}

/// A fresh link for the caller (202 whatever happens: already verified, or throttled).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn resend_verification(state: &AppState, principal: Principal) -> AppResult<()> {
    let mail = AccountMail::of(state);
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let user = users::find(conn, &actor.id)?.ok_or_else(|| AppError::not_found("user"))?;
            if user.email_verified || !may_mail(conn, &user.email, &mail.per_address, now)? {
                return Ok(());
            }
            mail.start_verification(conn, &user, now)
        })
        .await
}

/// The caller's enterprise, for enterprise users only.
fn own_enterprise(actor: &Actor) -> AppResult<&str> {
    actor.require(&[Role::Enterprise])?;
    actor
        .enterprise_id
        .as_deref()
        .ok_or_else(|| anyhow::anyhow!("enterprise user without enterprise").into())
}

fn require_owner(actor: &Actor) -> AppResult<&str> {
    let enterprise = own_enterprise(actor)?;
    if actor.enterprise_role != Some(EnterpriseRole::Owner) {
        return Err(AppError::new(
            ProblemType::OwnerOnly,
            "only the enterprise's owners may do this",
        ));
    }
    Ok(enterprise)
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn members(state: &AppState, principal: Principal) -> AppResult<Page<UserView>> {
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise = own_enterprise(&actor)?;
            Ok(Page {
                items: users::of_enterprise(conn, enterprise)?
                    .into_iter()
                    .map(UserView::from)
                    .collect(),
                next_cursor: None,
            })
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct InviteRequest {
    #[schema(format = "email")]
    pub email: String,
    /// How the invitation greets them; they choose their own name on acceptance.
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Invited {
    pub id: String,
    pub email: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn invite(
    state: &AppState,
    principal: Principal,
    req: InviteRequest,
) -> AppResult<Invited> {
    let mut checks = Checks::new();
    let email = checks.email("email", &req.email);
    let name = checks.optional_text("name", req.name.as_deref(), 100);
    checks.done()?;
    let templates = state.templates.clone();
    let public_url = state
        .settings
        .server
        .public_url
        .trim_end_matches('/')
        .to_owned();
    let days = state.settings.auth.invitation_days;
    let per_address = quota::mail_per_address(&state.settings.limits);
    let now = state.clock.now();
    let token = random_token();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise_id = require_owner(&actor)?.to_owned();
            if users::find_by_email(conn, &email)?.is_some() {
                return Err(AppError::new(
                    ProblemType::EmailTaken,
                    "a user with this email already exists",
                ));
            }
            let enterprise = enterprises::find(conn, &enterprise_id)?
                .ok_or_else(|| anyhow::anyhow!("the actor's enterprise vanished"))?;
            let invitation = accounts::insert_invitation(
                conn,
                &NewInvitation {
                    enterprise_id: &enterprise_id,
                    email: &email,
                    name: name.as_deref(),
                    token_hash: &sha256_hex(&token),
                    invited_by: &actor.id,
                    expires_at: now + Duration::days(days),
                },
                now,
            )?;
            if may_mail(conn, &email, &per_address, now)? {
                // In the inviter's language: the invitee has none yet.
                let mail = templates
                    .compose(
                        "invitation",
                        &actor.locale,
                        &email,
                        &serde_json::json!({
                            "name": name,
                            "inviter": actor.name,
                            "enterprise": enterprise.name,
                            "token": token,
                            "valid_days": days,
                            "link": format!("{public_url}/invitations/accept?token={token}"),
                        }),
                    )?
                    .carrying_secret();
                outbox::enqueue(conn, &mail, now)?;
            }
            Ok(Invited {
                id: invitation.id,
                email: invitation.email,
                expires_at: ts(invitation.expires_at),
            })
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn invitations(
    state: &AppState,
    principal: Principal,
) -> AppResult<Page<InvitationView>> {
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise = require_owner(&actor)?;
            Ok(Page {
                items: accounts::pending_invitations(conn, enterprise, now)?
                    .into_iter()
                    .map(InvitationView::from)
                    .collect(),
                next_cursor: None,
            })
        })
        .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, invitation_id = %id))]
pub async fn revoke_invitation(
    state: &AppState,
    principal: Principal,
    id: String,
) -> AppResult<()> {
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise = require_owner(&actor)?;
            if !accounts::revoke_invitation(conn, enterprise, &id, now)? {
                return Err(AppError::not_found("invitation"));
            }
            Ok(())
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AcceptInvitation {
    pub token: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Accepted {
    pub user: UserView,
}

/// The invitation a token names, if it still works (the console shows whose it is).
#[tracing::instrument(skip_all)]
pub async fn invitation_for(state: &AppState, token: &str) -> AppResult<Option<(String, String)>> {
    let hash = sha256_hex(token.trim());
    let now = state.clock.now();
    state
        .db
        .run(move |conn| {
            let Some(invitation) = accounts::find_live_invitation(conn, &hash, now)? else {
                return Ok(None);
            };
            let enterprise = enterprises::find(conn, &invitation.enterprise_id)?
                .map(|e| e.name)
                .unwrap_or_default();
            Ok(Some((invitation.email, enterprise)))
        })
        .await
}

/// Creates the invited colleague as a member with a verified email: the invitation's link
/// reached the mailbox, which is what verification proves.
#[tracing::instrument(skip_all)]
pub async fn accept_invitation(state: &AppState, req: AcceptInvitation) -> AppResult<Accepted> {
    let hash = sha256_hex(req.token.trim());
    let now = state.clock.now();
    let invitation = {
        let hash = hash.clone();
        state
            .db
            .run(move |conn| Ok(accounts::find_live_invitation(conn, &hash, now)?))
            .await?
            .ok_or_else(token_invalid)?
    };
    let mut checks = Checks::new();
    let name = checks.text("name", &req.name, 1, 100);
    policy_error("password", &mut checks, &req.password, &invitation.email);
    checks.done()?;
    let password_hash = hash_password(state, req.password).await?;
    let locale = state.templates.locale("").to_owned();
    state
        .db
        .write(move |conn| {
            let invitation =
                accounts::accept_invitation(conn, &hash, now)?.ok_or_else(token_invalid)?;
            if users::find_by_email(conn, &invitation.email)?.is_some() {
                return Err(AppError::new(
                    ProblemType::EmailTaken,
                    "a user with this email registered meanwhile",
                ));
            }
            let user = users::insert(
                conn,
                &NewUser {
                    email: &invitation.email,
                    name: &name,
                    role: Role::Enterprise,
                    enterprise_id: Some(&invitation.enterprise_id),
                    department_id: None,
                    password_hash: &password_hash,
                    locale: &locale,
                    email_verified: true,
                    enterprise_role: Some(EnterpriseRole::Member),
                },
                now,
            )?;
            Ok(Accepted { user: user.into() })
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberPatch {
    pub enterprise_role: Option<EnterpriseRole>,
    /// false deactivates the colleague and ends their sessions at once.
    pub active: Option<bool>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, member_id = %user_id))]
pub async fn update_member(
    state: &AppState,
    principal: Principal,
    user_id: String,
    req: MemberPatch,
) -> AppResult<UserView> {
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise = require_owner(&actor)?.to_owned();
            users::lock_enterprise_users(conn, &enterprise)?;
            // Another enterprise's user looks absent.
            let target = users::find(conn, &user_id)?
                .filter(|u| u.enterprise_id.as_deref() == Some(enterprise.as_str()))
                .ok_or_else(|| AppError::not_found("member"))?;
            let owners = users::active_owners(conn, &enterprise)?.len() as i64;
            let is_owner = |active: bool, role: Option<EnterpriseRole>| {
                active && role == Some(EnterpriseRole::Owner)
            };
            let before = is_owner(target.active, target.enterprise_role);
            let after = is_owner(
                req.active.unwrap_or(target.active),
                req.enterprise_role.or(target.enterprise_role),
            );
            if !leaves_an_owner(owners, before, after) {
                return Err(AppError::new(
                    ProblemType::LastOwner,
                    "the enterprise's last active owner cannot step down or be deactivated",
                ));
            }
            users::update(
                conn,
                &target.id,
                &UserChanges {
                    active: req.active,
                    enterprise_role: req.enterprise_role,
                    updated_at: Some(now),
                    ..UserChanges::default()
                },
            )?;
            if req.active == Some(false) {
                sessions::revoke_user(conn, &target.id, now)?;
            }
            Ok(users::find(conn, &target.id)?
                .ok_or_else(|| AppError::not_found("member"))?
                .into())
        })
        .await
}
