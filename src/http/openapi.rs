//! The OpenAPI document, collected from the operations `super::routes` registers: each
//! handler's `#[utoipa::path]` sits on its actix route macro, so a route cannot be added,
//! moved or removed without the document following.

use actix_web::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, Ref, RefOr, ResponseBuilder};

use crate::domain::ticket::Action;
use crate::error::{FieldError, Problem, ProblemType};

/// What the document says besides its operations.
#[derive(OpenApi)]
#[openapi(
    // The title stays ASCII: client generators derive package names from it.
    info(title = "Qifu API", description = "Qifu (企服) enterprise service ticketing: filing, routing, resolution and statistics."),
    components(schemas(Problem, FieldError, Action)),
    tags((name = "operations"), (name = "auth"), (name = "admin"), (name = "enterprise"), (name = "tickets"), (name = "attachments"), (name = "stats"))
)]
struct ApiDoc;

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

/// Errors are `application/problem+json`. Every operation documents, per status, the problem
/// types it can answer (`x-problem-types` and the description): those any request can meet
/// (malformed input, a missing token, an oversized body) and its own from [`own_problems`], so
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
        for (status, kinds) in Self::problems_by_status(op) {
            let response = op
                .responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| {
                    let content = Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))));
                    RefOr::T(
                        ResponseBuilder::new()
                            .description(kinds[0].title().en)
                            .content("application/problem+json", content)
                            .build(),
                    )
                });
            if let RefOr::T(response) = response {
                let uris: Vec<String> = kinds.iter().map(|k| k.uri()).collect();
                response.description = format!(
                    "{}. Problem types: {}",
                    response.description.trim_end_matches('.'),
                    uris.iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                response
                    .extensions
                    .get_or_insert_with(Default::default)
                    .insert("x-problem-types".to_owned(), serde_json::json!(uris));
            }
        }
    }

    fn problems_by_status(op: &Operation) -> std::collections::BTreeMap<u16, Vec<ProblemType>> {
        let mut kinds = vec![ProblemType::MalformedRequest];
        if op.security.is_some() {
            kinds.extend([ProblemType::Unauthorized, ProblemType::SessionEnded]);
        }
        if op.request_body.is_some() {
            kinds.extend([
                ProblemType::PayloadTooLarge,
                ProblemType::UnsupportedMediaType,
                ProblemType::Validation,
            ]);
        }
        if op.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
            kinds.push(ProblemType::Validation);
        }
        kinds.extend(own_problems(op.operation_id.as_deref().unwrap_or_default()));
        let mut by_status = std::collections::BTreeMap::<u16, Vec<ProblemType>>::new();
        for kind in kinds {
            let list = by_status.entry(kind.status().as_u16()).or_default();
            if !list.contains(&kind) {
                list.push(kind);
            }
        }
        by_status
    }
}

/// The failures particular to each operation (by operation id, the handler's name).
fn own_problems(operation_id: &str) -> &'static [ProblemType] {
    use ProblemType::*;
    match operation_id {
        "register" => &[
            EmailTaken,
            CreditCodeTaken,
            Duplicate,
            WeakPassword,
            InvalidCreditCode,
            RateLimited,
        ],
        "login" => &[
            WrongCredentials,
            AccountDeactivated,
            EnterpriseSuspended,
            RateLimited,
        ],
        "verify_email" => &[TokenInvalid],
        "accept_invitation" => &[TokenInvalid, WeakPassword, EmailTaken],
        "list_members" => &[Forbidden],
        "invite" => &[Forbidden, OwnerOnly, EmailTaken],
        "list_invitations" => &[Forbidden, OwnerOnly],
        "revoke_invitation" => &[Forbidden, OwnerOnly, NotFound],
        "update_member" => &[Forbidden, OwnerOnly, NotFound, LastOwner],
        "enterprise_events" => &[Forbidden, NotFound],
        "refresh" => &[RefreshTokenInvalid],
        "password_reset_confirm" => &[TokenInvalid, WeakPassword],
        "change_password" => &[WrongCurrentPassword, WeakPassword, RateLimited],
        "create_department" => &[Forbidden, DepartmentNameTaken, Duplicate],
        "update_department" => &[Forbidden, NotFound, DepartmentNameTaken, Duplicate],
        "list_departments" | "create_category" | "list_users" | "list_enterprises"
        | "list_outbox" => &[Forbidden],
        "update_category" | "get_user" | "get_enterprise" => &[Forbidden, NotFound],
        "update_enterprise" => &[Forbidden, NotFound, InvalidEnterpriseTransition],
        "create_user" => &[Forbidden, EmailTaken, Duplicate, WeakPassword],
        "update_user" => &[Forbidden, NotFound, SelfDeactivation],
        "retry_outbox" => &[Forbidden, NotFound, MessageNotDead],
        "create" => &[
            Forbidden,
            EnterprisePending,
            EnterpriseRejected,
            EmailUnverified,
            IdempotencyKeyReused,
            IdempotencyKeyInProgress,
            RateLimited,
        ],
        "get" | "events" | "comments" => &[NotFound],
        "comment" => &[NotFound, StaffOnlyCommentKind, TicketClosed],
        "act" => &[
            NotFound,
            WrongActor,
            InvalidTransition,
            VersionMismatch,
            PreconditionFailed,
        ],
        "summary" | "breakdown" | "trend" => &[Forbidden, OtherDepartment],
        "upload_attachments" => &[NotFound, Forbidden, TicketClosed, TooManyAttachments],
        "list_attachments" | "get_attachment" => &[NotFound],
        "attachment_content" => &[NotFound, RangeNotSatisfiable],
        "delete_attachment" => &[NotFound, Forbidden],
        "replace_calendar" => &[Forbidden],
        "request_extension" => &[NotFound, WrongActor, ExtensionPending, InvalidTransition],
        "list_extensions" => &[NotFound],
        "decide_extension" => &[
            Forbidden,
            NotFound,
            ExtensionDecided,
            InvalidTransition,
            VersionMismatch,
        ],
        _ => &[],
    }
}

/// Documents every problem type once, at the top of the document (`x-problem-types`): its
/// status, code class, title and what to do.
struct ProblemCatalogue;

impl Modify for ProblemCatalogue {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let catalogue: serde_json::Map<String, serde_json::Value> = ProblemType::ALL
            .iter()
            .map(|k| {
                (
                    k.uri(),
                    serde_json::json!({
                        "status": k.status().as_u16(),
                        "code": k.code(),
                        "title": k.title().en,
                        "description": k.todo().en,
                    }),
                )
            })
            .collect();
        openapi
            .extensions
            .get_or_insert_with(Default::default)
            .insert("x-problem-types".to_owned(), catalogue.into());
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

/// The document of every operation the router serves. The modifiers run once the operations
/// are in, since they rewrite them.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(super::routes)
        .split_for_parts();
    let modifiers: [&dyn Modify; 3] = [&BearerAuth, &ProblemResponses, &ProblemCatalogue];
    for modifier in modifiers {
        modifier.modify(&mut doc);
    }
    doc
}
