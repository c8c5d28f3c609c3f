//! Registration, sessions, passwords, and turning a verified token into an `Actor`.

use chrono::Duration;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::validate::{Checks, normalize_email};
use super::views::{DepartmentView, EnterpriseView, UserView};
use super::{AppState, quota};
use crate::auth::{random_token, sha256_hex};
use crate::config::AuthSettings;
use crate::domain::credit_code::CreditCode;
use crate::domain::enterprise::{EnterpriseRole, EnterpriseStatus};
use crate::domain::ids::{DepartmentId, EnterpriseId, UserId};
use crate::domain::password::check_password;
use crate::domain::role::Role;
use crate::domain::session::TokenKind;
use crate::domain::throttle::{self, Policy, Quota};
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::db::DbConn;
use crate::store::enterprises::{self, NewEnterprise};
use crate::store::sessions;
use crate::store::users::{self, NewUser, UserRow};
use crate::store::{departments, outbox};

/// Who the access token says is calling; trusted only after `load_actor`.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub role: Role,
    pub session_id: String,
    /// The token's `iat` (seconds since the epoch).
    pub issued_at: i64,
}

/// The caller as the database knows them now.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
    pub enterprise_id: Option<EnterpriseId>,
    pub department_id: Option<DepartmentId>,
    pub name: String,
    pub email: String,
    pub locale: String,
    /// Enterprise users: their enterprise's standing and their own among its users.
    pub enterprise_status: Option<EnterpriseStatus>,
    pub enterprise_role: Option<EnterpriseRole>,
    pub email_verified: bool,
}

impl Actor {
    pub fn require(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::forbidden(format!(
                "the {} role may not do this",
                self.role
            )))
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Official | Role::Admin)
    }
}

/// Checks the token's user still exists, is active, has the token's role and (for enterprise
/// users) belongs to an enterprise that is not suspended (pending and rejected ones may read
/// their account; what they may not do is checked where it is done), that the token's session is still open and that it
/// was issued after the user's last credential change — all in one query, so a deactivated
/// account, a logout or a password change bites at once, not when the access token expires.
pub fn load_actor(conn: &mut DbConn, principal: &Principal) -> AppResult<Actor> {
    actor_from(
        users::find_actor(conn, &principal.user_id, &principal.session_id)?,
        principal,
    )
}

/// The actor check on a row read with the data of a request (see `load_actor`); no row means
/// the user is gone.
pub fn actor_from(row: Option<users::ActorRow>, principal: &Principal) -> AppResult<Actor> {
    let unauthorized =
        || AppError::new(ProblemType::SessionEnded, "this session is no longer valid");
    let row = row.ok_or_else(unauthorized)?;
    let user = row.user;
    let role = user.role;
    let enterprise_status = row.enterprise_status;
    // `iat` has whole seconds: a token issued in the second of the change survives this, but
    // the change also revoked its session.
    let stale = row
        .credentials_changed_at
        .is_some_and(|at| principal.issued_at < at.and_utc().timestamp());
    if !user.active
        || role != principal.role
        || !row.session_open
        || stale
        || enterprise_status.is_some_and(|s| !s.may_sign_in())
    {
        return Err(unauthorized());
    }
    Ok(Actor {
        id: user.id.into(),
        role,
        enterprise_id: user.enterprise_id.map(EnterpriseId::from),
        department_id: user.department_id.map(DepartmentId::from),
        name: user.name,
        email: user.email,
        locale: user.locale,
        enterprise_status,
        enterprise_role: user.enterprise_role,
        email_verified: user.email_verified,
    })
}

/// argon2 runs on the dedicated hashing threads (`auth::HashPool`), never on a worker.
pub async fn hash_password(state: &AppState, password: String) -> AppResult<String> {
    Ok(state
        .hashing
        .run(move || crate::auth::hash_password(&password))
        .await??)
}

pub async fn verify_password(state: &AppState, password: String, hash: String) -> AppResult<bool> {
    Ok(state
        .hashing
        .run(move || crate::auth::verify_password(&password, &hash))
        .await?)
}

pub(super) fn policy_error(field: &str, checks: &mut Checks, password: &str, email: &str) {
    if let Err(e) = check_password(password, email) {
        checks.fail_as(ProblemType::WeakPassword, field, e.to_string());
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterEnterprise {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// The 18-character unified social credit code (GB 32100-2015).
    #[schema(example = "91330100716105852F", min_length = 18, max_length = 18)]
    pub credit_code: String,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[schema(max_length = 100)]
    pub industry: Option<String>,
    #[schema(max_length = 50)]
    pub contact_phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterUser {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(format = "email")]
    pub email: String,
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// `zh-CN` (default) or `en`: the language of the mail this user receives.
    pub locale: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub enterprise: RegisterEnterprise,
    pub user: RegisterUser,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterResponse {
    pub enterprise: EnterpriseView,
    pub user: UserView,
}

fn locale(state: &AppState, checks: &mut Checks, field: &str, wanted: Option<&str>) -> String {
    match wanted {
        None => state.templates.locale("").to_owned(),
        Some(l) if crate::mail::LOCALES.contains(&l) => l.to_owned(),
        Some(_) => {
            checks.fail(field, "must be zh-CN or en");
            String::new()
        }
    }
}

/// A registration's fields, checked.
struct Registration {
    name: String,
    credit_code: String,
    address: Option<String>,
    industry: Option<String>,
    phone: Option<String>,
    user_name: String,
    email: String,
    locale: String,
}

/// Every field error of the request at once.
fn check_registration(state: &AppState, req: &RegisterRequest) -> AppResult<Registration> {
    let mut checks = Checks::new();
    let name = checks.text("enterprise.name", &req.enterprise.name, 1, 200);
    let credit_code = match CreditCode::parse(&req.enterprise.credit_code) {
        Ok(code) => code.into_inner(),
        Err(e) => {
            checks.fail_as(
                ProblemType::InvalidCreditCode,
                "enterprise.credit_code",
                e.to_string(),
            );
            String::new()
        }
    };
    let address =
        checks.optional_prose("enterprise.address", req.enterprise.address.as_deref(), 500);
    let industry = checks.optional_text(
        "enterprise.industry",
        req.enterprise.industry.as_deref(),
        100,
    );
    let phone = checks.optional_text(
        "enterprise.contact_phone",
        req.enterprise.contact_phone.as_deref(),
        50,
    );
    let user_name = checks.text("user.name", &req.user.name, 1, 100);
    let email = checks.email("user.email", &req.user.email);
    policy_error("user.password", &mut checks, &req.user.password, &email);
    let locale = locale(
        state,
        &mut checks,
        "user.locale",
        req.user.locale.as_deref(),
    );
    checks.done()?;
    Ok(Registration {
        name,
        credit_code,
        address,
        industry,
        phone,
        user_name,
        email,
        locale,
    })
}

/// `ip` is the client address, whose registrations per hour are limited.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn register(
    state: &AppState,
    req: RegisterRequest,
    ip: String,
) -> AppResult<RegisterResponse> {
    let reg = check_registration(state, &req)?;
    let now = state.clock.now();
    // Spent before hashing and committed whatever follows, so a flood is refused before it
    // costs argon2 time, and probing which emails are taken counts as attempts too.
    let registrations = quota::registrations_per_address(&state.settings.limits);
    state
        .db
        .write(move |conn| {
            quota::enforce(
                conn,
                &format!("register:{ip}"),
                &registrations,
                now,
                "registrations",
            )
        })
        .await?;
    let hash = hash_password(state, req.user.password).await?;
    let mail = super::accounts::AccountMail::of(state);
    let status = if state.settings.auth.enterprise_review {
        EnterpriseStatus::Pending
    } else {
        EnterpriseStatus::Active
    };
    state
        .db
        .write(move |conn| {
            if enterprises::credit_code_taken(conn, &reg.credit_code)? {
                return Err(AppError::new(
                    ProblemType::CreditCodeTaken,
                    "an enterprise with this credit code is already registered",
                ));
            }
            if users::find_by_email(conn, &reg.email)?.is_some() {
                return Err(AppError::new(
                    ProblemType::EmailTaken,
                    "this email is already registered",
                ));
            }
            let enterprise = enterprises::insert(
                conn,
                &NewEnterprise {
                    name: &reg.name,
                    credit_code: &reg.credit_code,
                    address: reg.address.as_deref(),
                    industry: reg.industry.as_deref(),
                    contact_phone: reg.phone.as_deref(),
                    status,
                },
                now,
            )?;
            let user = users::insert(
                conn,
                &NewUser {
                    email: &reg.email,
                    name: &reg.user_name,
                    role: Role::Enterprise,
                    enterprise_id: Some(&enterprise.id),
                    department_id: None,
                    password_hash: &hash,
                    locale: &reg.locale,
                    email_verified: false,
                    enterprise_role: Some(EnterpriseRole::Owner),
                },
                now,
            )?;
            mail.start_verification(conn, &user, now)?;
            Ok(RegisterResponse {
                enterprise: enterprise.into(),
                user: user.into(),
            })
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(format = "email")]
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: UserView,
}

fn failure_policy(a: &AuthSettings, max_failures: i32) -> Policy {
    Policy {
        max_failures,
        window: Duration::minutes(a.login_window_minutes),
        base_lockout: Duration::seconds(a.login_lockout_seconds),
        max_lockout: Duration::minutes(a.login_window_minutes),
    }
}

/// The login throttle's counters: one account from one address gets the configured few
/// failures; a whole address room for many users behind one NAT; one account from all
/// addresses together a higher cap, so guessing spread over many addresses still locks, yet a
/// stranger cannot lock a user out with a handful of tries.
fn login_throttles(state: &AppState, email: &str, ip: &str) -> [(String, Policy); 3] {
    let a = &state.settings.auth;
    let policy = |max_failures| failure_policy(a, max_failures);
    [
        (
            format!("account:{email}|ip:{ip}"),
            policy(a.login_max_failures),
        ),
        (format!("ip:{ip}"), policy(a.login_max_failures * 10)),
        (
            format!("account:{email}"),
            policy(a.login_account_max_failures),
        ),
    ]
}

/// Login in three steps so no database connection is held while argon2 runs: count the
/// attempt (refusing it while locked out), look up the account, verify on the blocking pool,
/// then record the outcome. Counting before verifying means parallel guesses queue on the
/// throttle row and only the allowed number ever reach the password check.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn login(state: &AppState, req: LoginRequest, ip: String) -> AppResult<TokenResponse> {
    let refresh = random_token();
    let refresh_hash = sha256_hex(&refresh);
    let now = state.clock.now();
    let expires = now + Duration::days(state.settings.auth.refresh_token_days);
    let (user, session) = authenticate(state, req, ip, move |conn, user| {
        let session = sessions::open_session(conn, &user.id, now)?;
        sessions::insert_refresh(conn, &user.id, &session, &refresh_hash, expires, now)?;
        Ok(session)
    })
    .await?;
    token_response(state, user, &session, refresh)
}

/// Checks credentials under the login throttle; on success `start` opens the session (API
/// tokens or a console sign-in) in the transaction that clears the failures.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn authenticate<T: Send + 'static>(
    state: &AppState,
    req: LoginRequest,
    ip: String,
    start: impl FnOnce(&mut DbConn, &UserRow) -> AppResult<T> + Send + 'static,
) -> AppResult<(UserRow, T)> {
    let email = normalize_email(&req.email);
    let throttles = login_throttles(state, &email, &ip);
    let now = state.clock.now();
    let (user, enterprise_status) = {
        let (email, throttles) = (email.clone(), throttles.clone());
        state
            .db
            .write(move |conn| {
                for (key, policy) in &throttles {
                    let row = sessions::lock_throttle(conn, key, now)?;
                    if let Some(seconds) = throttle::locked_for(&row.counter(), now) {
                        return Err(AppError::RateLimited {
                            retry_after_seconds: seconds as u64,
                            detail: format!(
                                "too many failed logins; try again in {seconds} seconds"
                            ),
                        });
                    }
                    let next = throttle::record_failure(row.counter(), now, policy);
                    sessions::save_throttle(conn, &row.with(next))?;
                }
                match users::find_by_email(conn, &email)? {
                    Some(user) => {
                        let status = users::find_with_enterprise_status(conn, &user.id)?
                            .and_then(|(_, s)| s);
                        Ok((Some(user), status))
                    }
                    None => Ok((None, None)),
                }
            })
            .await?
    };
    // Unknown emails are checked against a dummy hash so both failures take the same time.
    let hash = user
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |u| u.password_hash.clone());
    let verified = verify_password(state, req.password, hash).await? && user.is_some();
    let Some(user) = user.filter(|_| verified) else {
        return Err(AppError::new(
            ProblemType::WrongCredentials,
            "wrong email or password",
        ));
    };
    if !user.active {
        return Err(AppError::new(
            ProblemType::AccountDeactivated,
            "this account is deactivated",
        ));
    }
    if enterprise_status == Some(EnterpriseStatus::Suspended) {
        return Err(AppError::new(
            ProblemType::EnterpriseSuspended,
            "this enterprise is suspended",
        ));
    }
    state
        .db
        .write(move |conn| {
            // A success wipes the account's slates and takes back its count on the address.
            let [(from_here, _), (ip_key, _), (anywhere, _)] = throttles;
            sessions::clear_throttle(conn, &from_here)?;
            sessions::clear_throttle(conn, &anywhere)?;
            let row = sessions::lock_throttle(conn, &ip_key, now)?;
            let mut undone = row.counter();
            undone.failures = (undone.failures - 1).max(0);
            sessions::save_throttle(conn, &row.with(undone))?;
            let started = start(conn, &user)?;
            Ok((user, started))
        })
        .await
}

fn token_response(
    state: &AppState,
    user: UserRow,
    session_id: &str,
    refresh_token: String,
) -> AppResult<TokenResponse> {
    let ttl = state.settings.auth.access_token_minutes * 60;
    let role = user.role;
    let access_token = state.jwt.issue(
        &user.id,
        session_id,
        role,
        state.clock.now_utc().timestamp(),
        ttl,
    )?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ttl,
        user: user.into(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

enum RefreshOutcome {
    Renewed(Box<UserRow>, String, String),
    Refused(&'static str),
}

/// Rotates a refresh token. A token presented twice means it was stolen (or raced): the whole
/// family dies, so whoever holds the newer token is signed out too and must log in again.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, req: RefreshRequest) -> AppResult<TokenResponse> {
    let hash = sha256_hex(req.refresh_token.trim());
    let now = state.clock.now();
    let days = state.settings.auth.refresh_token_days;
    let outcome = state
        .db
        .write(move |conn| {
            // A console cookie is no refresh token: it cannot be turned into API tokens.
            let Some(token) =
                sessions::find_refresh(conn, &hash)?.filter(|t| t.kind == TokenKind::Api)
            else {
                return Ok(RefreshOutcome::Refused("unknown refresh token"));
            };
            sessions::lock_session(conn, &token.family_id)?;
            if token.used_at.is_some()
                || token.revoked_at.is_some()
                || !sessions::use_refresh(conn, &token.id, now)?
            {
                sessions::revoke_family(conn, &token.family_id, now)?;
                return Ok(RefreshOutcome::Refused(
                    "refresh token already used; the session is revoked",
                ));
            }
            if token.expires_at <= now {
                return Ok(RefreshOutcome::Refused("refresh token expired"));
            }
            let user = match users::find_with_enterprise_status(conn, &token.user_id)? {
                Some((user, status))
                    if user.active && status != Some(EnterpriseStatus::Suspended) =>
                {
                    user
                }
                _ => {
                    sessions::revoke_family(conn, &token.family_id, now)?;
                    return Ok(RefreshOutcome::Refused(
                        "this account may no longer sign in",
                    ));
                }
            };
            let fresh = random_token();
            sessions::insert_refresh(
                conn,
                &user.id,
                &token.family_id,
                &sha256_hex(&fresh),
                now + Duration::days(days),
                now,
            )?;
            Ok(RefreshOutcome::Renewed(
                Box::new(user),
                token.family_id,
                fresh,
            ))
        })
        .await?;
    match outcome {
        RefreshOutcome::Renewed(user, session, token) => {
            token_response(state, *user, &session, token)
        }
        RefreshOutcome::Refused(why) => Err(AppError::new(ProblemType::RefreshTokenInvalid, why)),
    }
}

#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, req: RefreshRequest) -> AppResult<()> {
    let hash = sha256_hex(req.refresh_token.trim());
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            if let Some(token) = sessions::find_refresh(conn, &hash)? {
                sessions::revoke_family(conn, &token.family_id, now)?;
            }
            Ok(())
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetRequest {
    #[schema(format = "email")]
    pub email: String,
}

/// Always succeeds, so the answer does not tell whether the email is registered: both cases
/// render the mail and run one transaction that spends the quotas, looks the address up and
/// (for a known, active, unthrottled address) stores the token and queues the mail. Quotas:
/// `limits.mail_per_address_per_hour` per email address, ten times that per client address.
#[tracing::instrument(skip_all, fields(ip = %ip))]
pub async fn request_password_reset(
    state: &AppState,
    req: PasswordResetRequest,
    ip: String,
) -> AppResult<()> {
    let email = normalize_email(&req.email);
    let now = state.clock.now();
    let minutes = state.settings.auth.password_reset_minutes;
    let token = random_token();
    let hash = sha256_hex(&token);
    let per_address = quota::mail_per_address(&state.settings.limits);
    let per_client = Quota {
        limit: per_address.limit.saturating_mul(10),
        ..per_address
    };
    let link = format!(
        "{}/password-reset/confirm?token={token}",
        state.settings.server.public_url.trim_end_matches('/')
    );
    let templates = state.templates.clone();
    let default_locale = state.settings.mail.default_locale.clone();
    state
        .db
        .write(move |conn| {
            let address = quota::spend(conn, &format!("mail:{email}"), &per_address, now)?;
            let client = quota::spend(conn, &format!("mail-client:{ip}"), &per_client, now)?;
            let user = users::find_by_email(conn, &email)?.filter(|u| u.active);
            let (locale, name) = user
                .as_ref()
                .map_or((default_locale.as_str(), ""), |u| (&u.locale, &u.name));
            let mail = templates
                .compose(
                    "password_reset",
                    locale,
                    &email,
                    &serde_json::json!({
                        "name": name,
                        "token": token,
                        "valid_minutes": minutes,
                        // The console's page for it, with the token filled in.
                        "link": link,
                    }),
                )?
                .carrying_secret();
            let Some(user) = user.filter(|_| address.is_ok() && client.is_ok()) else {
                return Ok(());
            };
            sessions::insert_reset(conn, &user.id, &hash, now + Duration::minutes(minutes), now)?;
            outbox::enqueue(conn, &mail, now)?;
            Ok(())
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordResetConfirm {
    pub token: String,
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(state: &AppState, req: PasswordResetConfirm) -> AppResult<()> {
    let hash = sha256_hex(req.token.trim());
    let now = state.clock.now();
    let invalid = || {
        AppError::invalid(
            ProblemType::TokenInvalid,
            "token",
            "is invalid, expired or already used",
        )
    };
    let lookup = hash.clone();
    let user = state
        .db
        .run(move |conn| {
            let user_id = sessions::live_reset_user(conn, &lookup, now)?;
            match user_id {
                Some(id) => Ok(users::find(conn, &id)?),
                None => Ok(None),
            }
        })
        .await?
        .ok_or_else(invalid)?;
    let mut checks = Checks::new();
    policy_error("new_password", &mut checks, &req.new_password, &user.email);
    checks.done()?;
    let new_hash = hash_password(state, req.new_password).await?;
    state
        .db
        .write(move |conn| {
            if sessions::use_reset(conn, &hash, now)?.as_deref() != Some(user.id.as_str()) {
                return Err(invalid());
            }
            users::set_password(conn, &user.id, &new_hash, now)?;
            sessions::revoke_user(conn, &user.id, now)?;
            sessions::expire_resets(conn, &user.id, now)?;
            Ok(())
        })
        .await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub locale: String,
    pub email_verified: bool,
    /// Enterprise users: `owner` or `member`.
    pub enterprise_role: Option<EnterpriseRole>,
    /// With its `status` and, after a decision, `status_reason`.
    pub enterprise: Option<EnterpriseView>,
    pub department: Option<DepartmentView>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn me(state: &AppState, principal: Principal) -> AppResult<MeView> {
    state
        .db
        .run(move |conn| {
            let actor = load_actor(conn, &principal)?;
            let enterprise = match &actor.enterprise_id {
                Some(id) => enterprises::find(conn, id)?.map(EnterpriseView::from),
                None => None,
            };
            let department = match &actor.department_id {
                Some(id) => departments::find_department(conn, id)?.map(DepartmentView::from),
                None => None,
            };
            Ok(MeView {
                id: actor.id.into(),
                email: actor.email,
                name: actor.name,
                role: actor.role,
                locale: actor.locale,
                email_verified: actor.email_verified,
                enterprise_role: actor.enterprise_role,
                enterprise,
                department,
            })
        })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    #[schema(min_length = 10, max_length = 256)]
    pub new_password: String,
}

/// Counted like a login (before verifying, so parallel guesses queue on the counter): a wrong
/// current password costs a try, and too many lock the form with 429 for a while.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn change_password(
    state: &AppState,
    principal: Principal,
    req: ChangePasswordRequest,
) -> AppResult<()> {
    let key = format!("password:{}", principal.user_id);
    let policy = failure_policy(&state.settings.auth, state.settings.auth.login_max_failures);
    let now = state.clock.now();
    let (actor, hash) = {
        let key = key.clone();
        state
            .db
            .write(move |conn| {
                let actor = load_actor(conn, &principal)?;
                let user =
                    users::find(conn, &actor.id)?.ok_or_else(|| AppError::not_found("user"))?;
                let row = sessions::lock_throttle(conn, &key, now)?;
                if let Some(seconds) = throttle::locked_for(&row.counter(), now) {
                    return Err(AppError::RateLimited {
                        retry_after_seconds: seconds as u64,
                        detail: format!(
                            "too many wrong current passwords; try again in {seconds} seconds"
                        ),
                    });
                }
                let next = throttle::record_failure(row.counter(), now, &policy);
                sessions::save_throttle(conn, &row.with(next))?;
                Ok((actor, user.password_hash))
            })
            .await?
    };
    if !verify_password(state, req.current_password, hash).await? {
        return Err(AppError::invalid(
            ProblemType::WrongCurrentPassword,
            "current_password",
            "is not your current password",
        ));
    }
    // The right current password takes back the try, even if the new one is refused.
    let cleared = key.clone();
    state
        .db
        .write(move |conn| Ok(sessions::clear_throttle(conn, &cleared)?))
        .await?;
    let mut checks = Checks::new();
    policy_error("new_password", &mut checks, &req.new_password, &actor.email);
    checks.done()?;
    let new_hash = hash_password(state, req.new_password).await?;
    state
        .db
        .write(move |conn| {
            users::set_password(conn, &actor.id, &new_hash, now)?;
            sessions::revoke_user(conn, &actor.id, now)?;
            Ok(sessions::expire_resets(conn, &actor.id, now)?)
        })
        .await
}

/// Validates and creates a staff user (also used by `qifu create-admin`).
#[tracing::instrument(skip_all)]
pub async fn create_staff(
    state: &AppState,
    email: &str,
    name: &str,
    role: Role,
    department_id: Option<String>,
    password: String,
) -> AppResult<UserView> {
    let mut checks = Checks::new();
    let email = checks.email("email", email);
    let name = checks.text("name", name, 1, 100);
    match (role, &department_id) {
        (Role::Enterprise, _) => checks.fail("role", "must be official or admin"),
        (Role::Official, None) => checks.fail("department_id", "is required for officials"),
        (Role::Admin, Some(_)) => checks.fail("department_id", "admins have no department"),
        _ => {}
    }
    policy_error("password", &mut checks, &password, &email);
    checks.done()?;
    let hash = hash_password(state, password).await?;
    let now = state.clock.now();
    let locale = state.templates.locale("").to_owned();
    state
        .db
        .write(move |conn| {
            if let Some(id) = &department_id
                && departments::find_department(conn, id)?.is_none_or(|d| !d.active)
            {
                return Err(AppError::validation(
                    "department_id",
                    "no active department has this id",
                ));
            }
            if users::find_by_email(conn, &email)?.is_some() {
                return Err(AppError::new(
                    ProblemType::EmailTaken,
                    "a user with this email already exists",
                ));
            }
            let user = users::insert(
                conn,
                &NewUser {
                    email: &email,
                    name: &name,
                    role,
                    enterprise_id: None,
                    department_id: department_id.as_deref(),
                    password_hash: &hash,
                    locale: &locale,
                    // An administrator vouches for the staff they create.
                    email_verified: true,
                    enterprise_role: None,
                },
                now,
            )?;
            Ok(user.into())
        })
        .await
}
