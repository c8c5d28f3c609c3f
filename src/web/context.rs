//! What every page handler starts from: the visitor (session, language, CSRF token, one-shot
//! message) and one way out for answers and errors, with the security headers on every page.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Console;
use super::i18n::Lang;
use crate::auth::random_token;
use crate::domain::role::Role;
use crate::domain::ticket::TicketStatus;
use crate::error::{AppError, FieldError};
use crate::service::AppState;
use crate::service::auth::Principal;
use crate::service::console::{self, ConsoleSession};
use crate::telemetry::RequestId;

pub const SESSION_COOKIE: &str = "qifu_session";
const PRE_COOKIE: &str = "qifu_pre";
const LANG_COOKIE: &str = "qifu_lang";
const FLASH_COOKIE: &str = "qifu_flash";

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The signed-in user as the header shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    pub role: Role,
}

/// The per-request context every template gets: language and catalogue, the user, the CSRF
/// token for its forms, asset URLs, and the cookies to set on the answer.
#[derive(Clone)]
pub struct Ctx {
    pub lang: Lang,
    console: web::Data<Console>,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub flash: Option<String>,
    pub request_id: String,
    /// The current path and query, so the language switch and sign-in come back here.
    pub here: String,
    /// Set when the page shows a failed submit: the title starts "错误：".
    pub has_errors: bool,
    cookies: Vec<Cookie<'static>>,
}

impl Ctx {
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.console.catalogues.get(self.lang).get(key)
    }

    /// A message with `{n}` filled in.
    pub fn tf(&self, key: &str, n: &i64) -> String {
        self.t(key).replace("{n}", &n.to_string())
    }

    /// A message with `{x}` filled in (escaped by the template like any other value).
    pub fn ts(&self, key: &str, x: &str) -> String {
        self.t(key).replace("{x}", x)
    }

    pub fn asset<'a>(&'a self, name: &'a str) -> &'a str {
        self.console.assets.url(name)
    }

    pub fn other_lang(&self) -> Lang {
        match self.lang {
            Lang::ZhCn => Lang::En,
            Lang::En => Lang::ZhCn,
        }
    }

    /// A language named in itself, for the switch.
    pub fn lang_name(&self, tag: &str) -> &'static str {
        match Lang::parse(tag) {
            Some(Lang::En) => "English",
            _ => "简体中文",
        }
    }

    pub fn office(&self) -> &str {
        let s = &self.console.settings;
        match self.lang {
            Lang::ZhCn => &s.office,
            Lang::En => &s.office_en,
        }
    }

    pub fn organiser(&self) -> &str {
        let s = &self.console.settings;
        match self.lang {
            Lang::ZhCn => &s.organiser,
            Lang::En => &s.organiser_en,
        }
    }

    pub fn settings(&self) -> &crate::config::ConsoleSettings {
        &self.console.settings
    }

    pub fn is_enterprise(&self) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.role == Role::Enterprise)
    }

    /// "2026年11月26日 14:30" / "26 Nov 2026, 14:30", in `stats.time_zone`.
    pub fn when(&self, t: &DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.console.tz);
        match self.lang {
            Lang::ZhCn => local.format("%Y年%-m月%-d日 %H:%M").to_string(),
            Lang::En => local.format("%-d %b %Y, %H:%M").to_string(),
        }
    }

    /// A status as the enterprise reads it.
    /// The status in the reader's words: the enterprise reads "awaiting your confirmation",
    /// staff read "awaiting the enterprise's confirmation".
    pub fn status(&self, s: &TicketStatus) -> &str {
        match (self.user.is_some() && !self.is_enterprise(), s) {
            (true, TicketStatus::Resolved) => self.t("status_staff.resolved"),
            (true, TicketStatus::AwaitingEnterprise) => self.t("status_staff.awaiting_enterprise"),
            _ => self.t(status_key(*s)),
        }
    }

    /// The rating's words: "1 非常不满意" … "5 非常满意".
    pub fn rating_key(&self, n: &i32) -> &'static str {
        match *n {
            1 => "rating.1",
            2 => "rating.2",
            3 => "rating.3",
            4 => "rating.4",
            _ => "rating.5",
        }
    }

    /// Queues a one-shot success message for the next page (a catalogue key, never text).
    pub fn flash_next(&mut self, key: &'static str) {
        self.cookies
            .push(cookie(FLASH_COOKIE, key.to_owned(), false).finish());
    }

    pub fn set_cookie(&mut self, c: Cookie<'static>) {
        self.cookies.push(c);
    }

    pub fn session_cookie(&self, token: String) -> Cookie<'static> {
        cookie(SESSION_COOKIE, token, self.console.secure_cookies).finish()
    }

    pub fn lang_cookie(&self, lang: Lang) -> Cookie<'static> {
        cookie(
            LANG_COOKIE,
            lang.tag().to_owned(),
            self.console.secure_cookies,
        )
        .max_age(CookieDuration::days(365))
        .finish()
    }

    pub fn clear_session_cookie(&mut self) {
        let mut c = cookie(SESSION_COOKIE, String::new(), self.console.secure_cookies).finish();
        c.make_removal();
        self.cookies.push(c);
    }

    fn finish(&self, mut res: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
        res.insert_header((header::CONTENT_SECURITY_POLICY, CSP))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"))
            .insert_header((header::REFERRER_POLICY, "same-origin"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            // Personal data: nothing signed-in is stored, and WeChat caches hard.
            .insert_header((
                header::CACHE_CONTROL,
                if self.user.is_some() {
                    "no-store"
                } else {
                    "no-cache"
                },
            ))
            .insert_header((header::VARY, "Cookie, Accept-Language"));
        for c in &self.cookies {
            res.cookie(c.clone());
        }
        res
    }

    pub fn html(&self, status: StatusCode, body: String) -> HttpResponse {
        self.finish(HttpResponse::build(status))
            .content_type("text/html; charset=utf-8")
            .body(body)
    }

    pub fn render(
        &self,
        status: StatusCode,
        page: &impl Template,
    ) -> Result<HttpResponse, WebError> {
        match page.render() {
            Ok(body) => Ok(self.html(status, body)),
            Err(e) => Err(self.fail(AppError::Internal(
                anyhow::Error::new(e).context("rendering a page"),
            ))),
        }
    }

    /// A file to save (the dashboard's CSV reports), with the page headers: never cached.
    pub fn download(&self, filename: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
        self.finish(HttpResponse::Ok())
            .insert_header((header::CONTENT_TYPE, content_type))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ))
            .body(body)
    }

    /// 303 See Other: where a successful form sends the browser.
    pub fn redirect(&self, to: &str) -> HttpResponse {
        self.finish(HttpResponse::SeeOther())
            .insert_header((header::LOCATION, to))
            .finish()
    }

    /// A form the use case refused: its invalid fields (named among `known`) for the page to
    /// show beside them, the page marked as one with errors; any other failure is its own page.
    pub fn form_errors(&mut self, err: AppError, known: &[&str]) -> Result<Errors, WebError> {
        match err {
            AppError::Invalid { errors, .. } => {
                self.has_errors = true;
                Ok(Errors::from_fields(self, &errors, known))
            }
            other => Err(self.fail(other)),
        }
    }

    /// The one mapping from a service error to a page: not signed in → sign-in page, 403 and
    /// 404 → their pages, anything unexpected → a page with the request id.
    pub fn fail(&self, err: AppError) -> WebError {
        let kind = match &err {
            _ if err.kind().status() == StatusCode::UNAUTHORIZED => ErrorKind::SignIn,
            _ if err.kind().status() == StatusCode::FORBIDDEN => {
                ErrorKind::Page(StatusCode::FORBIDDEN, "forbidden")
            }
            AppError::MethodNotAllowed { .. } => {
                ErrorKind::Page(StatusCode::NOT_FOUND, "not_found")
            }
            _ if matches!(err.kind().code(), "not_found" | "method_not_allowed") => {
                ErrorKind::Page(StatusCode::NOT_FOUND, "not_found")
            }
            AppError::RateLimited { .. } => {
                ErrorKind::Page(StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            _ if err.kind().status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ErrorKind::Page(StatusCode::PAYLOAD_TOO_LARGE, "too_large")
            }
            AppError::Problem { .. } | AppError::Invalid { .. }
                if matches!(
                    err.kind().code(),
                    "bad_request" | "validation_failed" | "unsupported_media_type"
                ) =>
            {
                ErrorKind::Page(StatusCode::BAD_REQUEST, "bad_request")
            }
            AppError::Problem { .. } | AppError::Invalid { .. } => {
                ErrorKind::Page(StatusCode::CONFLICT, "conflict")
            }
            AppError::Internal(e) => {
                tracing::error!(error = ?e, "internal error on a console page");
                ErrorKind::Page(StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        WebError {
            ctx: Box::new(self.clone()),
            kind,
        }
    }

    /// A refused CSRF check: 403, nothing changed.
    pub fn csrf_refused(&self) -> WebError {
        WebError {
            ctx: Box::new(self.clone()),
            kind: ErrorKind::Page(StatusCode::FORBIDDEN, "csrf"),
        }
    }
}

fn status_key(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Submitted => "status.submitted",
        TicketStatus::Assigned => "status.assigned",
        TicketStatus::InProgress => "status.in_progress",
        TicketStatus::Resolved => "status.resolved",
        TicketStatus::Closed => "status.closed",
        TicketStatus::Cancelled => "status.cancelled",
        TicketStatus::AwaitingEnterprise => "status.awaiting_enterprise",
    }
}

fn cookie(
    name: &'static str,
    value: String,
    secure: bool,
) -> actix_web::cookie::CookieBuilder<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(secure)
}

/// A relative path on this site to come back to after signing in, or `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

enum ErrorKind {
    SignIn,
    Page(StatusCode, &'static str),
}

/// An answer that is not the page asked for: the sign-in redirect or an error page.
pub struct WebError {
    ctx: Box<Ctx>,
    kind: ErrorKind,
}

impl std::fmt::Debug for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ErrorKind::SignIn => f.write_str("sign in required"),
            ErrorKind::Page(status, key) => write!(f, "{status} {key}"),
        }
    }
}

#[derive(Template)]
#[template(path = "web/error.html")]
pub struct ErrorPage<'a> {
    pub ctx: &'a Ctx,
    pub title_key: String,
    pub body_key: String,
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match &self.kind {
            ErrorKind::SignIn => StatusCode::SEE_OTHER,
            ErrorKind::Page(status, _) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match &self.kind {
            ErrorKind::SignIn => {
                let mut ctx = (*self.ctx).clone();
                if ctx.user.is_none() {
                    // The cookie named a dead session: drop it.
                    ctx.clear_session_cookie();
                }
                let next =
                    serde_urlencoded::to_string([("next", ctx.here.as_str())]).unwrap_or_default();
                ctx.redirect(&format!("/login?{next}"))
            }
            ErrorKind::Page(status, key) => {
                let page = ErrorPage {
                    ctx: &self.ctx,
                    title_key: format!("error.{key}.title"),
                    body_key: format!("error.{key}.body"),
                };
                let body = page
                    .render()
                    .unwrap_or_else(|_| self.ctx.t("error.internal.title").to_owned());
                self.ctx.html(*status, body)
            }
        }
    }
}

/// Field errors from a use case, in the page's language: each field's one message that says
/// how to fix it (`field.<name>`), tied to its input by id.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    pub items: Vec<ErrorItem>,
}

#[derive(Debug, Clone)]
pub struct ErrorItem {
    pub field: String,
    pub id: String,
    pub message: String,
}

pub fn field_id(field: &str) -> String {
    format!("f-{}", field.replace('.', "-"))
}

impl Errors {
    pub fn from_fields(ctx: &Ctx, fields: &[FieldError], known: &[&str]) -> Errors {
        let mut items: Vec<ErrorItem> = Vec::new();
        for f in fields {
            let field = if known.contains(&f.field.as_str()) {
                f.field.clone()
            } else {
                known.first().map_or_else(String::new, |k| (*k).to_owned())
            };
            if items.iter().any(|i| i.field == field) {
                continue;
            }
            items.push(ErrorItem {
                id: field_id(&field),
                message: ctx.t(&format!("field.{field}")).to_owned(),
                field,
            });
        }
        // The summary follows the form's order.
        items.sort_by_key(|i| known.iter().position(|k| *k == i.field));
        Errors { items }
    }

    pub fn one(ctx: &Ctx, field: &str, key: &str) -> Errors {
        Errors {
            items: vec![ErrorItem {
                field: field.to_owned(),
                id: field_id(field),
                message: ctx.t(key).to_owned(),
            }],
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// What a form page answers: 200 fresh, 422 when it shows a refused submit.
    pub fn status(&self) -> StatusCode {
        if self.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|i| i.field == field)
            .map(|i| i.message.as_str())
    }
}

/// The visitor of a page: who they are (if signed in), in which language, and the CSRF
/// token their forms carry. Signed-out visitors get a pre-session cookie their forms bind to.
pub struct Visitor {
    pub ctx: Ctx,
    pub session: Option<ConsoleSession>,
    csrf_seed: String,
    cross_site: bool,
}

impl Visitor {
    /// The signed-in principal, or the redirect to the sign-in page.
    pub fn principal(&self) -> Result<Principal, WebError> {
        self.session
            .as_ref()
            .map(|s| s.principal.clone())
            .ok_or_else(|| WebError {
                ctx: Box::new(self.ctx.clone()),
                kind: ErrorKind::SignIn,
            })
    }

    pub fn fail(&self, err: AppError) -> WebError {
        self.ctx.fail(err)
    }

    /// Who sends a form: the signed-in principal (else the sign-in redirect), once the form's
    /// CSRF token passed [`Visitor::check_csrf`].
    pub fn submitter(&self, csrf: &str) -> Result<Principal, WebError> {
        let principal = self.principal()?;
        self.check_csrf(csrf)?;
        Ok(principal)
    }

    /// The form's token against this visitor's, in constant time, and the request must not
    /// come from another site. Runs before any use case, so a refusal changes nothing.
    pub fn check_csrf(&self, token: &str) -> Result<(), WebError> {
        let expected = csrf_token(&self.ctx.console, &self.csrf_seed);
        if self.cross_site || !bool::from(expected.as_bytes().ct_eq(token.as_bytes())) {
            return Err(self.ctx.csrf_refused());
        }
        Ok(())
    }
}

fn csrf_token(console: &Console, seed: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(&console.csrf_key).expect("HMAC takes any key length");
    mac.update(seed.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A browser's own forms say `Sec-Fetch-Site: same-origin` and send an `Origin` naming this
/// host; anything else on a POST is another site's form.
fn is_cross_site(req: &HttpRequest) -> bool {
    if req.method() == actix_web::http::Method::GET {
        return false;
    }
    let fetch_site = req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|s| s != "same-origin" && s != "none") {
        return true;
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok());
    match origin {
        None => false,
        Some(o) => {
            let host = req.connection_info().host().to_owned();
            o.split_once("://").is_none_or(|(_, h)| h != host)
        }
    }
}

impl FromRequest for Visitor {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Visitor, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("app state missing"))?;
            let console_data = req
                .app_data::<web::Data<Console>>()
                .cloned()
                .ok_or_else(|| actix_web::error::ErrorInternalServerError("console missing"))?;
            let request_id = req
                .extensions()
                .get::<RequestId>()
                .map(|r| r.0.clone())
                .unwrap_or_default();
            let mut cookies = Vec::new();
            let session = match req.cookie(SESSION_COOKIE) {
                Some(c) => match console::resolve(&state, c.value()).await {
                    Ok(found) => found,
                    Err(e) => {
                        tracing::error!(error = ?e, "resolving a console session");
                        None
                    }
                },
                None => None,
            };
            let lang = match &session {
                Some(s) => Lang::parse(&s.locale).unwrap_or(Lang::ZhCn),
                None => req
                    .cookie(LANG_COOKIE)
                    .and_then(|c| Lang::parse(c.value()))
                    .unwrap_or_else(|| {
                        Lang::negotiate(
                            req.headers()
                                .get(header::ACCEPT_LANGUAGE)
                                .and_then(|v| v.to_str().ok()),
                        )
                    }),
            };
            let csrf_seed = match &session {
                Some(s) => format!("session:{}", s.session_id),
                None => {
                    let pre = match req.cookie(PRE_COOKIE) {
                        Some(c) if c.value().len() >= 32 => c.value().to_owned(),
                        _ => {
                            let value = random_token();
                            cookies.push(
                                cookie(PRE_COOKIE, value.clone(), console_data.secure_cookies)
                                    .finish(),
                            );
                            value
                        }
                    };
                    format!("pre:{pre}")
                }
            };
            let flash = req.cookie(FLASH_COOKIE).and_then(|c| {
                let key = format!("flash.{}", c.value().trim_start_matches("flash."));
                console_data
                    .catalogues
                    .get(lang)
                    .has(&key)
                    .then(|| console_data.catalogues.get(lang).get(&key).to_owned())
            });
            if req.cookie(FLASH_COOKIE).is_some() {
                let mut c =
                    cookie(FLASH_COOKIE, String::new(), console_data.secure_cookies).finish();
                c.make_removal();
                cookies.push(c);
            }
            let here = match req.query_string() {
                "" => req.path().to_owned(),
                q => format!("{}?{q}", req.path()),
            };
            let ctx = Ctx {
                lang,
                csrf: csrf_token(&console_data, &csrf_seed),
                user: session.as_ref().map(|s| NavUser {
                    name: s.name.clone(),
                    role: s.principal.role,
                }),
                console: console_data,
                flash,
                request_id,
                here,
                has_errors: false,
                cookies,
            };
            Ok(Visitor {
                ctx,
                session,
                csrf_seed,
                cross_site: is_cross_site(&req),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/tickets/1")), "/tickets/1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn every_status_has_a_message() {
        let all = super::super::i18n::Catalogues::load().unwrap();
        for lang in Lang::ALL {
            for s in TicketStatus::ALL {
                assert!(all.get(lang).has(status_key(s)), "{lang:?} {s}");
            }
            for key in [
                "forbidden",
                "not_found",
                "rate_limited",
                "too_large",
                "bad_request",
                "conflict",
                "internal",
                "csrf",
            ] {
                assert!(all.get(lang).has(&format!("error.{key}.title")), "{key}");
                assert!(all.get(lang).has(&format!("error.{key}.body")), "{key}");
            }
        }
    }
}
