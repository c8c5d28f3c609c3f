//! The web console: server-rendered pages and forms at the root path. Handlers are thin:
//! they parse a form, call the same `service` use cases as the API, and render a template.
//! Every page works without scripts; `assets/app.js` only shortens a few steps.

pub mod admin;
pub mod assets;
pub mod attachments;
pub mod charts;
pub mod context;
pub mod dashboard;
pub mod enterprise;
pub mod i18n;
pub mod portal;
pub mod queue;
pub mod staff;
pub mod tickets;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::http::Method;
use actix_web::{FromRequest, Handler, HttpRequest, HttpResponse, Responder, web};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::AppError;
use assets::Assets;
pub use context::{Ctx, Visitor, WebError};
use i18n::Catalogues;

/// What the console needs beside the use cases' `AppState`, built once at start.
pub struct Console {
    pub catalogues: Catalogues,
    pub assets: Assets,
    /// Signs CSRF tokens; derived from the JWT secret, so every instance agrees.
    csrf_key: [u8; 32],
    /// Cookies are `Secure` when the public URL is https.
    secure_cookies: bool,
    pub settings: crate::config::ConsoleSettings,
    pub tz: chrono_tz::Tz,
}

impl Console {
    pub fn new(settings: &Settings, secret: &SecretString) -> anyhow::Result<Console> {
        let mut hasher = Sha256::new();
        hasher.update(b"qifu console csrf\0");
        hasher.update(secret.expose_secret().as_bytes());
        Ok(Console {
            catalogues: Catalogues::load()?,
            assets: Assets::load(),
            csrf_key: hasher.finalize().into(),
            secure_cookies: settings.server.public_url.starts_with("https://"),
            settings: settings.console.clone(),
            tz: settings.time_zone(),
        })
    }
}

/// Every console path. `/tickets/new` before `/tickets/{id}`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/assets/{file}").get(assets::serve))
        .service(resource("/").get(portal::home))
        .service(resource("/language").post(portal::language))
        .service(
            resource("/login")
                .get(portal::login_form)
                .post(portal::login),
        )
        .service(resource("/logout").post(portal::logout))
        .service(
            resource("/register")
                .get(portal::register_form)
                .post(portal::register),
        )
        .service(
            resource("/password-reset")
                .get(portal::reset_form)
                .post(portal::reset),
        )
        .service(
            resource("/password-reset/confirm")
                .get(portal::reset_confirm_form)
                .post(portal::reset_confirm),
        )
        .service(
            resource("/account")
                .get(portal::account)
                .post(portal::account_update),
        )
        .service(resource("/account/password").post(portal::account_password))
        .service(
            resource("/verify-email")
                .get(enterprise::verify_form)
                .post(enterprise::verify),
        )
        .service(resource("/verify-email/resend").post(enterprise::resend))
        .service(
            resource("/invitations/accept")
                .get(enterprise::accept_form)
                .post(enterprise::accept),
        )
        .service(resource("/enterprise").get(enterprise::show))
        .service(resource("/enterprise/invitations").post(enterprise::invite))
        .service(resource("/enterprise/invitations/{id}/revoke").post(enterprise::revoke))
        .service(resource("/enterprise/members/{user_id}").post(enterprise::update_member))
        .service(resource("/tickets").get(tickets::list))
        .service(
            resource("/tickets/new")
                .get(tickets::new_form)
                .post(tickets::create),
        )
        .service(resource("/tickets/{id}").get(tickets::show))
        .service(resource("/tickets/{id}/cancel").get(tickets::cancel_form))
        .service(resource("/tickets/{id}/comments").post(tickets::comment))
        .service(resource("/tickets/{id}/attachments").post(attachments::upload))
        .service(resource("/attachments/{id}").get(attachments::content))
        .service(resource("/tickets/{id}/actions/{action}").post(tickets::act))
        .service(resource("/queue").get(queue::show))
        .service(resource("/tickets/{id}/records").post(staff::record))
        .service(resource("/tickets/{id}/close").get(staff::close_form))
        .service(resource("/tickets/{id}/extensions").post(staff::request_extension))
        .service(
            resource("/tickets/{id}/extensions/{eid}/{decision}").post(staff::decide_extension),
        );
    cfg.service(resource("/dashboard").get(dashboard::show))
        .service(resource("/dashboard/summary.csv").get(dashboard::summary_csv))
        .service(resource("/dashboard/breakdown.csv").get(dashboard::breakdown_csv))
        .service(resource("/dashboard/trend.csv").get(dashboard::trend_csv));
    admin_routes(cfg);
}

/// A console path and its handlers; the methods it has none for answer 405 with `Allow`.
struct Endpoint {
    resource: actix_web::Resource,
    allow: Vec<Method>,
}

fn resource(path: &str) -> Endpoint {
    Endpoint {
        resource: web::resource(path),
        allow: Vec::new(),
    }
}

impl Endpoint {
    /// The page; startup's middleware answers HEAD with it too.
    fn get<F, Args>(mut self, handler: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.extend([Method::GET, Method::HEAD]);
        self.resource = self.resource.get(handler);
        self
    }

    /// The form's submission.
    fn post<F, Args>(mut self, handler: F) -> Endpoint
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.allow.push(Method::POST);
        self.resource = self.resource.post(handler);
        self
    }
}

impl HttpServiceFactory for Endpoint {
    fn register(self, config: &mut AppService) {
        let allow = self.allow;
        let refuse = move |req: HttpRequest| {
            let error = AppError::method_not_allowed(&req, allow.clone());
            async move { Err::<HttpResponse, _>(error) }
        };
        self.resource
            .default_service(web::to(refuse))
            .register(config);
    }
}

/// `/admin/…`: a destructive act's GET is its confirmation page, its POST the act.
fn admin_routes(cfg: &mut web::ServiceConfig) {
    use admin::{calendar, categories, departments, enterprises, outbox, users};
    cfg.service(resource("/admin").get(admin::index))
        .service(
            resource("/admin/departments")
                .get(departments::list)
                .post(departments::create),
        )
        .service(
            resource("/admin/departments/{id}")
                .get(departments::edit_form)
                .post(departments::update),
        )
        .service(
            resource("/admin/departments/{id}/deactivate")
                .get(departments::deactivate_form)
                .post(departments::set_active::<false>),
        )
        .service(resource("/admin/departments/{id}/activate").post(departments::set_active::<true>))
        .service(
            resource("/admin/categories")
                .get(categories::list)
                .post(categories::create),
        )
        .service(resource("/admin/categories/new").get(categories::new_form))
        .service(
            resource("/admin/categories/{id}")
                .get(categories::edit_form)
                .post(categories::update),
        )
        .service(
            resource("/admin/categories/{id}/deactivate")
                .get(categories::deactivate_form)
                .post(categories::set_active::<false>),
        )
        .service(resource("/admin/categories/{id}/activate").post(categories::set_active::<true>))
        .service(
            resource("/admin/users")
                .get(users::list)
                .post(users::create),
        )
        .service(resource("/admin/users/new").get(users::new_form))
        .service(resource("/admin/users/{id}").get(users::show))
        .service(resource("/admin/users/{id}/department").post(users::move_department))
        .service(
            resource("/admin/users/{id}/deactivate")
                .get(users::deactivate_form)
                .post(users::set_active::<false>),
        )
        .service(resource("/admin/users/{id}/activate").post(users::set_active::<true>))
        .service(resource("/admin/enterprises").get(enterprises::list))
        .service(resource("/admin/enterprises/{id}").get(enterprises::show))
        .service(resource("/admin/enterprises/{id}/approve").post(enterprises::approve))
        .service(
            resource("/admin/enterprises/{id}/reject")
                .get(enterprises::reject_form)
                .post(enterprises::reject),
        )
        .service(
            resource("/admin/enterprises/{id}/suspend")
                .get(enterprises::suspend_form)
                .post(enterprises::suspend),
        )
        .service(resource("/admin/enterprises/{id}/reactivate").post(enterprises::reactivate))
        .service(resource("/admin/calendar").get(calendar::show))
        .service(resource("/admin/calendar/{year}/days").post(calendar::add))
        .service(
            resource("/admin/calendar/{year}/remove")
                .get(calendar::remove_form)
                .post(calendar::remove),
        )
        .service(resource("/admin/outbox").get(outbox::list))
        .service(resource("/admin/outbox/{id}/retry").post(outbox::retry));
}

/// Unknown paths: a page for browsers, problem+json for programs and under `/api/`.
pub async fn not_found(req: HttpRequest, visitor: Visitor) -> Result<HttpResponse, WebError> {
    let wants_html = req
        .headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if !wants_html || req.path().starts_with("/api/") {
        use actix_web::ResponseError;
        return Ok(crate::http::not_found(req)
            .await
            .unwrap_or_else(|e| e.error_response()));
    }
    Err(visitor.fail(crate::error::AppError::not_found("page")))
}
