//! The front page, signing in and out, registration, password reset, and the account page.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError, safe_next};
use super::i18n::Lang;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::extract::ClientIp;
use crate::service::AppState;
use crate::service::auth::{
    self, ChangePasswordRequest, LoginRequest, PasswordResetConfirm, PasswordResetRequest,
    RegisterEnterprise, RegisterRequest, RegisterUser,
};
use crate::service::console;

#[derive(Template)]
#[template(path = "web/home.html")]
struct HomePage<'a> {
    ctx: &'a Ctx,
}

#[derive(Template)]
#[template(path = "web/staff_home.html")]
struct StaffHomePage<'a> {
    ctx: &'a Ctx,
    is_admin: bool,
}

/// Signed out: what the service is, sign in, register. An enterprise's home is its tickets;
/// staff get a page of their own until the work queue exists.
pub async fn home(v: Visitor) -> Result<HttpResponse, WebError> {
    match v.ctx.user.as_ref().map(|u| u.role) {
        None => v.ctx.render(StatusCode::OK, &HomePage { ctx: &v.ctx }),
        Some(Role::Enterprise) => Ok(v.ctx.redirect("/tickets")),
        Some(role) => v.ctx.render(
            StatusCode::OK,
            &StaffHomePage {
                ctx: &v.ctx,
                is_admin: role == Role::Admin,
            },
        ),
    }
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    next: Option<String>,
}

/// The language switch: kept on the user when signed in, in a cookie otherwise.
pub async fn language(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<LanguageForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let lang = Lang::parse(&form.lang).unwrap_or(Lang::ZhCn);
    if let Some(s) = &v.session {
        console::update_profile(&state, s.principal.clone(), &s.name, lang.tag())
            .await
            .map_err(|e| v.fail(e))?;
    }
    let c = v.ctx.lang_cookie(lang);
    v.ctx.set_cookie(c);
    Ok(v.ctx.redirect(&safe_next(form.next.as_deref())))
}

#[derive(Template)]
#[template(path = "web/login.html")]
struct LoginPage<'a> {
    ctx: &'a Ctx,
    email: String,
    next: String,
    errors: Errors,
    /// The lock-out message of the throttle, in words.
    locked_seconds: Option<u64>,
}

impl LoginPage<'_> {
    fn locked_minutes(&self) -> i64 {
        self.locked_seconds.map_or(1, |s| (s as i64 + 59) / 60)
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(v: Visitor, q: web::Query<NextQuery>) -> Result<HttpResponse, WebError> {
    let next = safe_next(q.next.as_deref());
    if v.session.is_some() {
        return Ok(v.ctx.redirect(&next));
    }
    v.ctx.render(
        StatusCode::OK,
        &LoginPage {
            ctx: &v.ctx,
            email: String::new(),
            next,
            errors: Errors::default(),
            locked_seconds: None,
        },
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

pub async fn login(
    state: web::Data<AppState>,
    ip: ClientIp,
    mut v: Visitor,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let next = safe_next(form.next.as_deref());
    let (errors, locked_seconds) = if form.email.trim().is_empty() {
        (Errors::one(&v.ctx, "email", "field.login.email"), None)
    } else if form.password.is_empty() {
        (
            Errors::one(&v.ctx, "password", "field.login.password"),
            None,
        )
    } else {
        let req = LoginRequest {
            email: form.email.clone(),
            password: form.password,
        };
        match console::sign_in(&state, req, ip.0).await {
            Ok((token, session)) => {
                let c = v.ctx.session_cookie(token);
                v.ctx.set_cookie(c);
                // Staff start their day in the work queue.
                let staff = session.principal.role != Role::Enterprise;
                let next = if staff && next == "/" {
                    "/queue"
                } else {
                    &next
                };
                return Ok(v.ctx.redirect(next));
            }
            Err(e) if e.kind().status() == actix_web::http::StatusCode::UNAUTHORIZED => {
                (Errors::one(&v.ctx, "email", "field.login.wrong"), None)
            }
            Err(e) if e.kind().status() == actix_web::http::StatusCode::FORBIDDEN => {
                (Errors::one(&v.ctx, "email", "field.login.inactive"), None)
            }
            Err(AppError::RateLimited {
                retry_after_seconds,
                ..
            }) => (
                Errors::one(&v.ctx, "email", "field.login.locked"),
                Some(retry_after_seconds),
            ),
            Err(e) => return Err(v.fail(e)),
        }
    };
    v.ctx.has_errors = true;
    let status = if locked_seconds.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    v.ctx.render(
        status,
        &LoginPage {
            ctx: &v.ctx,
            email: form.email,
            next,
            errors,
            locked_seconds,
        },
    )
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn logout(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    if let Some(s) = &v.session {
        console::sign_out(&state, s.session_id.clone())
            .await
            .map_err(|e| v.fail(e))?;
    }
    v.ctx.clear_session_cookie();
    v.ctx.flash_next("flash.signed_out");
    Ok(v.ctx.redirect("/login"))
}

/// The registration form's fields, named as the API's JSON fields (dotted for nesting).
#[derive(Deserialize, Default, Clone)]
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "enterprise.name")]
    pub enterprise_name: String,
    #[serde(default, rename = "enterprise.credit_code")]
    pub credit_code: String,
    #[serde(default, rename = "enterprise.address")]
    pub address: String,
    #[serde(default, rename = "enterprise.industry")]
    pub industry: String,
    #[serde(default, rename = "enterprise.contact_phone")]
    pub contact_phone: String,
    #[serde(default, rename = "user.name")]
    pub user_name: String,
    #[serde(default, rename = "user.email")]
    pub email: String,
    #[serde(default, rename = "user.password")]
    password: String,
}

const REGISTER_FIELDS: [&str; 8] = [
    "enterprise.name",
    "enterprise.credit_code",
    "enterprise.address",
    "enterprise.industry",
    "enterprise.contact_phone",
    "user.name",
    "user.email",
    "user.password",
];

#[derive(Template)]
#[template(path = "web/register.html")]
struct RegisterPage<'a> {
    ctx: &'a Ctx,
    form: RegisterForm,
    errors: Errors,
}

pub async fn register_form(v: Visitor) -> Result<HttpResponse, WebError> {
    v.ctx.render(
        StatusCode::OK,
        &RegisterPage {
            ctx: &v.ctx,
            form: RegisterForm::default(),
            errors: Errors::default(),
        },
    )
}

/// Codes are copied from licences and typed on phones: full-width characters become ASCII and
/// spaces go, before the API's own check.
fn typed_code(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

pub async fn register(
    state: web::Data<AppState>,
    mut v: Visitor,
    ip: ClientIp,
    form: web::Form<RegisterForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let mut form = form.into_inner();
    let req = RegisterRequest {
        enterprise: RegisterEnterprise {
            name: form.enterprise_name.clone(),
            credit_code: typed_code(&form.credit_code),
            address: optional(&form.address),
            industry: optional(&form.industry),
            contact_phone: optional(&form.contact_phone),
        },
        user: RegisterUser {
            name: form.user_name.clone(),
            email: form.email.clone(),
            password: std::mem::take(&mut form.password),
            locale: Some(v.ctx.lang.tag().to_owned()),
        },
    };
    let errors = match auth::register(&state, req, ip.0).await {
        Ok(_) => {
            v.ctx.flash_next("flash.registered");
            let q = serde_urlencoded::to_string([("email", form.email.trim())]).unwrap_or_default();
            return Ok(v.ctx.redirect(&format!("/login?{q}")));
        }
        // Which of the two unique values is taken, in the API's own words.
        Err(e) if e.kind() == crate::error::ProblemType::CreditCodeTaken => {
            Errors::one(&v.ctx, "enterprise.credit_code", "field.credit_code_taken")
        }
        Err(e) if e.kind() == crate::error::ProblemType::EmailTaken => {
            Errors::one(&v.ctx, "user.email", "field.email_taken")
        }
        Err(e) => v.ctx.form_errors(e, &REGISTER_FIELDS)?,
    };
    v.ctx.has_errors = true;
    v.ctx.render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &RegisterPage {
            ctx: &v.ctx,
            form,
            errors,
        },
    )
}

#[derive(Template)]
#[template(path = "web/reset.html")]
struct ResetPage<'a> {
    ctx: &'a Ctx,
    email: String,
    errors: Errors,
    sent: bool,
}

pub async fn reset_form(v: Visitor) -> Result<HttpResponse, WebError> {
    v.ctx.render(
        StatusCode::OK,
        &ResetPage {
            ctx: &v.ctx,
            email: String::new(),
            errors: Errors::default(),
            sent: false,
        },
    )
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

pub async fn reset(
    state: web::Data<AppState>,
    mut v: Visitor,
    ip: ClientIp,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let email = form.into_inner().email;
    if !email.contains('@') {
        v.ctx.has_errors = true;
        let errors = Errors::one(&v.ctx, "email", "field.email");
        return v.ctx.render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &ResetPage {
                ctx: &v.ctx,
                email,
                errors,
                sent: false,
            },
        );
    }
    auth::request_password_reset(
        &state,
        PasswordResetRequest {
            email: email.clone(),
        },
        ip.0,
    )
    .await
    .map_err(|e| v.fail(e))?;
    v.ctx.render(
        StatusCode::OK,
        &ResetPage {
            ctx: &v.ctx,
            email,
            errors: Errors::default(),
            sent: true,
        },
    )
}

#[derive(Template)]
#[template(path = "web/reset_confirm.html")]
struct ResetConfirmPage<'a> {
    ctx: &'a Ctx,
    token: String,
    errors: Errors,
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The mailed link's page; the token may also be typed in from the mail.
pub async fn reset_confirm_form(
    v: Visitor,
    q: web::Query<TokenQuery>,
) -> Result<HttpResponse, WebError> {
    v.ctx.render(
        StatusCode::OK,
        &ResetConfirmPage {
            ctx: &v.ctx,
            token: q.into_inner().token,
            errors: Errors::default(),
        },
    )
}

#[derive(Deserialize)]
pub struct ResetConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

pub async fn reset_confirm(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<ResetConfirmForm>,
) -> Result<HttpResponse, WebError> {
    v.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let token = form.token.trim().to_owned();
    let req = PasswordResetConfirm {
        token: token.clone(),
        new_password: form.new_password,
    };
    let errors = match auth::confirm_password_reset(&state, req).await {
        Ok(()) => {
            v.ctx.flash_next("flash.password_reset");
            return Ok(v.ctx.redirect("/login"));
        }
        Err(e) => v.ctx.form_errors(e, &["token", "new_password"])?,
    };
    v.ctx.render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &ResetConfirmPage {
            ctx: &v.ctx,
            token,
            errors,
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(
            super::typed_code(" ９１３３ 0100-716105852f "),
            "91330100716105852f"
        );
    }
}

#[derive(Template)]
#[template(path = "web/account.html")]
struct AccountPage<'a> {
    ctx: &'a Ctx,
    user_name: String,
    email: String,
    locale: String,
    errors: Errors,
}

async fn account_page(
    state: &AppState,
    v: &Visitor,
    name: Option<String>,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let me = auth::me(state, v.principal()?)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.render(
        errors.status(),
        &AccountPage {
            ctx: &v.ctx,
            user_name: name.unwrap_or(me.name),
            email: me.email,
            locale: me.locale,
            errors,
        },
    )
}

pub async fn account(state: web::Data<AppState>, v: Visitor) -> Result<HttpResponse, WebError> {
    account_page(&state, &v, None, Errors::default()).await
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    locale: String,
}

pub async fn account_update(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let form = form.into_inner();
    match console::update_profile(&state, principal, &form.name, &form.locale).await {
        Ok(()) => {
            if let Some(lang) = Lang::parse(&form.locale) {
                let c = v.ctx.lang_cookie(lang);
                v.ctx.set_cookie(c);
            }
            v.ctx.flash_next("flash.account_saved");
            Ok(v.ctx.redirect("/account"))
        }
        Err(e) => {
            let errors = v.ctx.form_errors(e, &["name", "locale"])?;
            account_page(&state, &v, Some(form.name), errors).await
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// Changing the password ends every session of the user, this one too: sign in again.
pub async fn account_password(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let form = form.into_inner();
    let req = ChangePasswordRequest {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match auth::change_password(&state, principal, req).await {
        Ok(()) => {
            v.ctx.clear_session_cookie();
            v.ctx.flash_next("flash.password_changed");
            Ok(v.ctx.redirect("/login"))
        }
        Err(e) => {
            let errors = v
                .ctx
                .form_errors(e, &["current_password", "new_password"])?;
            account_page(&state, &v, None, errors).await
        }
    }
}
