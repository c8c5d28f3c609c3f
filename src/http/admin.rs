//! Departments, categories, staff, enterprises, outbox.

use actix_web::{HttpResponse, get, patch, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, MaybeAuth};
use crate::domain::ids::OutboxId;
use crate::error::{AppResult, Problem};
use crate::service::AppState;
use crate::service::admin::{
    self, CategoryPatch, CategoryQuery, DepartmentPatch, DepartmentQuery, EnterprisePatch,
    EnterpriseQuery, NewCategoryRequest, NewDepartment, NewStaff, OutboxQuery, PageQuery,
    UserPatch, UserQuery,
};
use crate::service::page::Page;
use crate::service::views::{
    CategoryView, DepartmentView, EnterpriseEventView, EnterpriseView, OutboxView, UserView,
};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_department)
        .service(list_departments)
        .service(update_department)
        .service(create_category)
        .service(list_categories)
        .service(update_category)
        .service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(list_enterprises)
        .service(get_enterprise)
        .service(update_enterprise)
        .service(enterprise_events)
        .service(list_outbox)
        .service(retry_outbox);
}

/// Create a department.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    request_body = NewDepartment, responses(
    (status = 201, description = "Created", body = DepartmentView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 409, description = "Name taken", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/departments")]
pub async fn create_department(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewDepartment>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created()
        .json(admin::create_department(&state, auth.0, body.into_inner()).await?))
}

/// List departments (staff).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(DepartmentQuery), responses(
    (status = 200, description = "A page", body = Page<DepartmentView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/departments")]
pub async fn list_departments(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<DepartmentQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::list_departments(&state, auth.0, q.into_inner()).await?))
}

/// Rename, describe, activate or deactivate a department.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DepartmentPatch, responses(
    (status = 200, description = "Updated", body = DepartmentView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such department", body = Problem),
    (status = 409, description = "Name taken", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[patch("/departments/{id}")]
pub async fn update_department(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<DepartmentPatch>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(admin::update_department(&state, auth.0, id.into_inner(), body.into_inner()).await?))
}

/// Create a category routed to a department, with its deadline.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    request_body = NewCategoryRequest, responses(
    (status = 201, description = "Created", body = CategoryView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/categories")]
pub async fn create_category(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewCategoryRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created()
        .json(admin::create_category(&state, auth.0, body.into_inner()).await?))
}

/// Active categories (public, for the filing form).
#[utoipa::path(tag = "admin", params(CategoryQuery), responses(
    (status = 200, description = "A page", body = Page<CategoryView>),
    (status = 401, description = "Invalid token", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/categories")]
pub async fn list_categories(
    state: web::Data<AppState>,
    auth: MaybeAuth,
    q: web::Query<CategoryQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::list_categories(&state, auth.0, q.into_inner()).await?))
}

/// Change a category.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CategoryPatch, responses(
    (status = 200, description = "Updated", body = CategoryView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such category", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[patch("/categories/{id}")]
pub async fn update_category(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<CategoryPatch>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(admin::update_category(&state, auth.0, id.into_inner(), body.into_inner()).await?))
}

/// Create an official or admin.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = NewStaff, responses(
    (status = 201, description = "Created", body = UserView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 409, description = "Email taken", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    auth: Auth,
    body: web::Json<NewStaff>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Created().json(admin::create_user(&state, auth.0, body.into_inner()).await?))
}

/// List users, by role and department.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(UserQuery), responses(
    (status = 200, description = "A page", body = Page<UserView>),
    (status = 400, description = "Bad query", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::list_users(&state, auth.0, q.into_inner()).await?))
}

/// One user.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "The user", body = UserView),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such user", body = Problem)))]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::get_user(&state, auth.0, id.into_inner()).await?))
}

/// Rename, move or (de)activate a user; deactivating revokes their sessions.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UserPatch, responses(
    (status = 200, description = "Updated", body = UserView),
    (status = 400, description = "Malformed request", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such user", body = Problem),
    (status = 409, description = "Admins cannot deactivate themselves", body = Problem),
    (status = 422, description = "Invalid values", body = Problem)))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<UserPatch>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(admin::update_user(&state, auth.0, id.into_inner(), body.into_inner()).await?))
}

/// Search enterprises by name or credit code (staff).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(EnterpriseQuery), responses(
    (status = 200, description = "A page", body = Page<EnterpriseView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/enterprises")]
pub async fn list_enterprises(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<EnterpriseQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::list_enterprises(&state, auth.0, q.into_inner()).await?))
}

/// One enterprise (staff).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "The enterprise", body = EnterpriseView),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Staff only", body = Problem),
    (status = 404, description = "No such enterprise", body = Problem)))]
#[get("/enterprises/{id}")]
pub async fn get_enterprise(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::get_enterprise(&state, auth.0, id.into_inner()).await?))
}

/// Review an enterprise: approve or reject a pending one, suspend or reactivate it.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = EnterprisePatch, responses(
    (status = 200, description = "Updated", body = EnterpriseView),
    (status = 400, description = "Malformed request or unknown status", body = Problem),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such enterprise", body = Problem),
    (status = 409, description = "Not a move from the enterprise's current status", body = Problem),
    (status = 422, description = "Missing fields, or a rejection without a reason", body = Problem)))]
#[patch("/enterprises/{id}")]
pub async fn update_enterprise(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    body: web::Json<EnterprisePatch>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(admin::update_enterprise(&state, auth.0, id.into_inner(), body.into_inner()).await?))
}

/// An enterprise's review history, oldest first (admins).
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery), responses(
    (status = 200, description = "A page", body = Page<EnterpriseEventView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such enterprise", body = Problem),
    (status = 422, description = "Bad limit or cursor", body = Problem)))]
#[get("/enterprises/{id}/events")]
pub async fn enterprise_events(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<String>,
    q: web::Query<PageQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(admin::enterprise_events(&state, auth.0, id.into_inner(), q.into_inner()).await?))
}

/// Outgoing mail, newest first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(OutboxQuery), responses(
    (status = 200, description = "A page", body = Page<OutboxView>),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 422, description = "Bad status, limit or cursor", body = Problem)))]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    auth: Auth,
    q: web::Query<OutboxQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::list_outbox(&state, auth.0, q.into_inner()).await?))
}

/// Put a dead message back in the queue.
#[utoipa::path(tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path)), responses(
    (status = 200, description = "Queued again", body = OutboxView),
    (status = 401, description = "Not signed in", body = Problem),
    (status = 403, description = "Admins only", body = Problem),
    (status = 404, description = "No such message", body = Problem),
    (status = 409, description = "The message is not dead", body = Problem)))]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry_outbox(
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<OutboxId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(admin::retry_outbox(&state, auth.0, id.into_inner()).await?))
}
