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

use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::error::{AppError, ProblemType};
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
    cfg.service(resource("/assets/{file}").route(web::get().to(assets::serve)))
        .service(resource("/").route(web::get().to(portal::home)))
        .service(resource("/language").route(web::post().to(portal::language)))
        .service(
            resource("/login")
                .route(web::get().to(portal::login_form))
                .route(web::post().to(portal::login)),
        )
        .service(resource("/logout").route(web::post().to(portal::logout)))
        .service(
            resource("/register")
                .route(web::get().to(portal::register_form))
                .route(web::post().to(portal::register)),
        )
        .service(
            resource("/password-reset")
                .route(web::get().to(portal::reset_form))
                .route(web::post().to(portal::reset)),
        )
        .service(
            resource("/password-reset/confirm")
                .route(web::get().to(portal::reset_confirm_form))
                .route(web::post().to(portal::reset_confirm)),
        )
        .service(
            resource("/account")
                .route(web::get().to(portal::account))
                .route(web::post().to(portal::account_update)),
        )
        .service(resource("/account/password").route(web::post().to(portal::account_password)))
        .service(
            resource("/verify-email")
                .route(web::get().to(enterprise::verify_form))
                .route(web::post().to(enterprise::verify)),
        )
        .service(resource("/verify-email/resend").route(web::post().to(enterprise::resend)))
        .service(
            resource("/invitations/accept")
                .route(web::get().to(enterprise::accept_form))
                .route(web::post().to(enterprise::accept)),
        )
        .service(resource("/enterprise").route(web::get().to(enterprise::show)))
        .service(resource("/enterprise/invitations").route(web::post().to(enterprise::invite)))
        .service(
            resource("/enterprise/invitations/{id}/revoke")
                .route(web::post().to(enterprise::revoke)),
        )
        .service(
            resource("/enterprise/members/{user_id}")
                .route(web::post().to(enterprise::update_member)),
        )
        .service(resource("/tickets").route(web::get().to(tickets::list)))
        .service(
            resource("/tickets/new")
                .route(web::get().to(tickets::new_form))
                .route(web::post().to(tickets::create)),
        )
        .service(resource("/tickets/{id}").route(web::get().to(tickets::show)))
        .service(resource("/tickets/{id}/cancel").route(web::get().to(tickets::cancel_form)))
        .service(resource("/tickets/{id}/comments").route(web::post().to(tickets::comment)))
        .service(resource("/tickets/{id}/attachments").route(web::post().to(attachments::upload)))
        .service(resource("/attachments/{id}").route(web::get().to(attachments::content)))
        .service(resource("/tickets/{id}/actions/{action}").route(web::post().to(tickets::act)))
        .service(resource("/queue").route(web::get().to(queue::show)))
        .service(resource("/tickets/{id}/records").route(web::post().to(staff::record)))
        .service(resource("/tickets/{id}/close").route(web::get().to(staff::close_form)))
        .service(
            resource("/tickets/{id}/extensions").route(web::post().to(staff::request_extension)),
        )
        .service(
            resource("/tickets/{id}/extensions/{eid}/{decision}")
                .route(web::post().to(staff::decide_extension)),
        );
    cfg.service(resource("/dashboard").route(web::get().to(dashboard::show)))
        .service(resource("/dashboard/summary.csv").route(web::get().to(dashboard::summary_csv)))
        .service(
            resource("/dashboard/breakdown.csv").route(web::get().to(dashboard::breakdown_csv)),
        )
        .service(resource("/dashboard/trend.csv").route(web::get().to(dashboard::trend_csv)));
    admin_routes(cfg);
}

/// `web::resource(path)` that answers 405 for methods it has no route for.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

async fn method_not_allowed(req: HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::new(
        ProblemType::MethodNotAllowed,
        format!("{} is not allowed on {}", req.method(), req.path()),
    ))
}

/// `/admin/…`: a destructive act's GET is its confirmation page, its POST the act.
fn admin_routes(cfg: &mut web::ServiceConfig) {
    use admin::{calendar, categories, departments, enterprises, outbox, users};
    cfg.service(resource("/admin").route(web::get().to(admin::index)))
        .service(
            resource("/admin/departments")
                .route(web::get().to(departments::list))
                .route(web::post().to(departments::create)),
        )
        .service(
            resource("/admin/departments/{id}")
                .route(web::get().to(departments::edit_form))
                .route(web::post().to(departments::update)),
        )
        .service(
            resource("/admin/departments/{id}/deactivate")
                .route(web::get().to(departments::deactivate_form))
                .route(web::post().to(departments::deactivate)),
        )
        .service(
            resource("/admin/departments/{id}/activate")
                .route(web::post().to(departments::activate)),
        )
        .service(
            resource("/admin/categories")
                .route(web::get().to(categories::list))
                .route(web::post().to(categories::create)),
        )
        .service(resource("/admin/categories/new").route(web::get().to(categories::new_form)))
        .service(
            resource("/admin/categories/{id}")
                .route(web::get().to(categories::edit_form))
                .route(web::post().to(categories::update)),
        )
        .service(
            resource("/admin/categories/{id}/deactivate")
                .route(web::get().to(categories::deactivate_form))
                .route(web::post().to(categories::deactivate)),
        )
        .service(
            resource("/admin/categories/{id}/activate").route(web::post().to(categories::activate)),
        )
        .service(
            resource("/admin/users")
                .route(web::get().to(users::list))
                .route(web::post().to(users::create)),
        )
        .service(resource("/admin/users/new").route(web::get().to(users::new_form)))
        .service(resource("/admin/users/{id}").route(web::get().to(users::show)))
        .service(
            resource("/admin/users/{id}/department").route(web::post().to(users::move_department)),
        )
        .service(
            resource("/admin/users/{id}/deactivate")
                .route(web::get().to(users::deactivate_form))
                .route(web::post().to(users::deactivate)),
        )
        .service(resource("/admin/users/{id}/activate").route(web::post().to(users::activate)))
        .service(resource("/admin/enterprises").route(web::get().to(enterprises::list)))
        .service(resource("/admin/enterprises/{id}").route(web::get().to(enterprises::show)))
        .service(
            resource("/admin/enterprises/{id}/approve").route(web::post().to(enterprises::approve)),
        )
        .service(
            resource("/admin/enterprises/{id}/reject")
                .route(web::get().to(enterprises::reject_form))
                .route(web::post().to(enterprises::reject)),
        )
        .service(
            resource("/admin/enterprises/{id}/suspend")
                .route(web::get().to(enterprises::suspend_form))
                .route(web::post().to(enterprises::suspend)),
        )
        .service(
            resource("/admin/enterprises/{id}/reactivate")
                .route(web::post().to(enterprises::reactivate)),
        )
        .service(resource("/admin/calendar").route(web::get().to(calendar::show)))
        .service(resource("/admin/calendar/{year}/days").route(web::post().to(calendar::add)))
        .service(
            resource("/admin/calendar/{year}/remove")
                .route(web::get().to(calendar::remove_form))
                .route(web::post().to(calendar::remove)),
        )
        .service(resource("/admin/outbox").route(web::get().to(outbox::list)))
        .service(resource("/admin/outbox/{id}/retry").route(web::post().to(outbox::retry)));
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
