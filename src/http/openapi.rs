//! The OpenAPI document, assembled from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(title = "Qifu 企服 API", description = "Enterprise service ticketing: filing, routing, resolution and statistics."),
    paths(
        super::ops::healthz,
        super::ops::readyz,
        super::ops::metrics,
        super::auth::register,
        super::auth::login,
        super::auth::refresh,
        super::auth::logout,
        super::auth::password_reset,
        super::auth::password_reset_confirm,
        super::auth::me,
        super::auth::change_password,
        super::admin::create_department,
        super::admin::list_departments,
        super::admin::update_department,
        super::admin::create_category,
        super::admin::list_categories,
        super::admin::update_category,
        super::admin::create_user,
        super::admin::list_users,
        super::admin::get_user,
        super::admin::update_user,
        super::admin::list_enterprises,
        super::admin::get_enterprise,
        super::admin::update_enterprise,
        super::admin::list_outbox,
        super::admin::retry_outbox,
        super::tickets::create,
        super::tickets::list,
        super::tickets::get,
        super::tickets::events,
        super::tickets::comment,
        super::tickets::comments,
        super::tickets::act,
        super::stats::summary,
        super::stats::breakdown,
        super::stats::trend,
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags((name = "operations"), (name = "auth"), (name = "admin"), (name = "tickets"), (name = "stats"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
