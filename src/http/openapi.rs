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
