//! The OpenAPI document, assembled from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

use crate::domain::ticket::Action;
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
    components(schemas(Problem, FieldError, Action)),
    modifiers(&BearerAuth, &ProblemResponses),
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

/// Errors are `application/problem+json`, and every operation documents the failures any
/// request can meet (malformed input 400, a missing token 401, an oversized body 413), so
/// generated clients and fuzzers know every status an operation can answer.
struct ProblemResponses;

impl ProblemResponses {
    fn fix(op: &mut Operation) {
        for (status, response) in op.responses.responses.iter_mut() {
            if (status.starts_with('4') || status.starts_with('5'))
                && let RefOr::T(response) = response
                && let Some(content) = response.content.shift_remove("application/json")
            {
                response
                    .content
                    .insert("application/problem+json".to_owned(), content);
            }
        }
        let mut add = |status: &str, description: &str| {
            op.responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| {
                    let content = Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(description)
                            .content("application/problem+json", content)
                            .build(),
                    )
                });
        };
        add("400", "Malformed request");
        if op.security.is_some() {
            add("401", "Missing, invalid or expired access token");
        }
        if op.request_body.is_some() {
            add("413", "Request body too large");
            add("422", "Invalid values");
        }
        if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
            add("422", "Invalid parameters");
        }
    }
}

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let api = openapi
            .paths
            .paths
            .iter_mut()
            .filter(|(path, _)| path.starts_with("/api/"));
        for (_, item) in api {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.patch,
                &mut item.put,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                Self::fix(op);
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
