//! Administration: departments, categories, staff, enterprises, the outbox.

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{Actor, Principal, load_actor};
use super::page::{self, Page};
use super::validate::Checks;
use super::views::{
    CategoryView, DepartmentView, EnterpriseEventView, EnterpriseView, OutboxView, UserView,
};
use crate::domain::enterprise::{EnterpriseStatus, ReviewError, review};
use crate::domain::ids::OutboxId;
use crate::domain::outbox::OutboxStatus;
use crate::domain::role::Role;
use crate::error::{AppError, AppResult, ProblemType};
use crate::store::db::DbConn;
use crate::store::departments::{self, CategoryChanges, DepartmentChanges, NewCategory};
use crate::store::enterprises::NewEnterpriseEvent;
use crate::store::users::{self, UserChanges};
use crate::store::{enterprises, outbox, sessions};

/// For PATCH bodies: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
pub fn double_option<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

type Cursor = (NaiveDateTime, String);

async fn as_role<T, F>(
    state: &AppState,
    principal: Principal,
    roles: &'static [Role],
    write: bool,
    f: F,
) -> AppResult<T>
where
    F: FnOnce(&mut DbConn, Actor) -> AppResult<T> + Send + 'static,
    T: Send + 'static,
{
    let run = move |conn: &mut DbConn| {
        let actor = load_actor(conn, &principal)?;
        actor.require(roles)?;
        f(conn, actor)
    };
    if write {
        state.db.write(run).await
    } else {
        state.db.run(run).await
    }
}

const ADMIN: &[Role] = &[Role::Admin];
const STAFF: &[Role] = &[Role::Official, Role::Admin];

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1..100, default 20
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepartmentQuery {
    /// 1..100, default 20
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page
    pub cursor: Option<String>,
    /// Part of the name (case-insensitive).
    pub q: Option<String>,
}

/// A search term worth filtering by: trimmed, and none when blank.
fn search_term(q: Option<String>) -> Option<String> {
    q.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewDepartment {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DepartmentPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Option<Option<String>>,
    pub active: Option<bool>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create_department(
    state: &AppState,
    principal: Principal,
    req: NewDepartment,
) -> AppResult<DepartmentView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, _| {
        let mut checks = Checks::new();
        let name = checks.text("name", &req.name, 1, 100);
        let description = checks.optional_prose("description", req.description.as_deref(), 1000);
        checks.done()?;
        if departments::department_name_taken(conn, &name, None)? {
            return Err(AppError::new(
                ProblemType::DepartmentNameTaken,
                format!("a department named {name} already exists"),
            ));
        }
        Ok(departments::insert_department(conn, &name, description.as_deref(), now)?.into())
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_departments(
    state: &AppState,
    principal: Principal,
    q: DepartmentQuery,
) -> AppResult<Page<DepartmentView>> {
    as_role(state, principal, STAFF, false, move |conn, _| {
        let limit = page::limit(q.limit)?;
        let after = page::decode::<Cursor>(q.cursor.as_deref())?;
        let search = search_term(q.q);
        let rows = departments::list_departments(conn, search.as_deref(), after, limit + 1)?;
        Ok(page::paginate(
            rows,
            limit,
            |d| (d.created_at, d.id.clone()),
            DepartmentView::from,
        ))
    })
    .await
}

/// One department (admins: the console's edit form).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, department_id = %id))]
pub async fn get_department(
    state: &AppState,
    principal: Principal,
    id: String,
) -> AppResult<DepartmentView> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        Ok(departments::find_department(conn, &id)?
            .ok_or_else(|| AppError::not_found("department"))?
            .into())
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, department_id = %id))]
pub async fn update_department(
    state: &AppState,
    principal: Principal,
    id: String,
    req: DepartmentPatch,
) -> AppResult<DepartmentView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, _| {
        let mut checks = Checks::new();
        let name = req.name.as_deref().map(|n| checks.text("name", n, 1, 100));
        let description = req
            .description
            .map(|d| checks.optional_prose("description", d.as_deref(), 1000));
        checks.done()?;
        departments::find_department(conn, &id)?
            .ok_or_else(|| AppError::not_found("department"))?;
        if let Some(name) = &name
            && departments::department_name_taken(conn, name, Some(&id))?
        {
            return Err(AppError::new(
                ProblemType::DepartmentNameTaken,
                format!("a department named {name} already exists"),
            ));
        }
        let changes = DepartmentChanges {
            name,
            description,
            active: req.active,
            updated_at: Some(now),
        };
        departments::update_department(conn, &id, &changes)?;
        Ok(departments::find_department(conn, &id)?
            .ok_or_else(|| AppError::not_found("department"))?
            .into())
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCategoryRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(max_length = 1000)]
    pub description: Option<String>,
    /// The department new tickets of this category are routed to.
    pub department_id: String,
    /// Deadline in hours from filing (urgent tickets get half).
    #[schema(minimum = 1, maximum = 8760)]
    pub sla_hours: i32,
    /// A deadline in working days (受理之日起 N 个工作日) instead of hours; null: hours apply.
    #[schema(minimum = 1, maximum = 60)]
    pub sla_working_days: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CategoryPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 1000)]
    pub description: Option<Option<String>>,
    pub department_id: Option<String>,
    #[schema(minimum = 1, maximum = 8760)]
    pub sla_hours: Option<i32>,
    /// null switches back to `sla_hours`.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i32>, minimum = 1, maximum = 60)]
    pub sla_working_days: Option<Option<i32>>,
    pub active: Option<bool>,
}

fn check_sla(checks: &mut Checks, hours: i32) {
    if !(1..=8760).contains(&hours) {
        checks.fail("sla_hours", "must be between 1 and 8760 (a year)");
    }
}

fn check_working_days(checks: &mut Checks, days: Option<i32>) {
    if let Some(n) = days
        && !(1..=60).contains(&n)
    {
        checks.fail(
            "sla_working_days",
            "must be between 1 and 60 working days, or null",
        );
    }
}

fn require_active_department(conn: &mut DbConn, id: &str) -> AppResult<()> {
    match departments::find_department(conn, id)? {
        Some(d) if d.active => Ok(()),
        _ => Err(AppError::validation(
            "department_id",
            "no active department has this id",
        )),
    }
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create_category(
    state: &AppState,
    principal: Principal,
    req: NewCategoryRequest,
) -> AppResult<CategoryView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, _| {
        let mut checks = Checks::new();
        let name = checks.text("name", &req.name, 1, 100);
        let description = checks.optional_prose("description", req.description.as_deref(), 1000);
        check_sla(&mut checks, req.sla_hours);
        check_working_days(&mut checks, req.sla_working_days);
        checks.done()?;
        require_active_department(conn, &req.department_id)?;
        let new = NewCategory {
            name: &name,
            description: description.as_deref(),
            department_id: &req.department_id,
            sla_hours: req.sla_hours,
            sla_working_days: req.sla_working_days,
        };
        Ok(departments::insert_category(conn, &new, now)?.into())
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CategoryQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Admins only: include deactivated categories.
    pub include_inactive: Option<bool>,
    /// Part of the name (case-insensitive).
    pub q: Option<String>,
}

/// Public: the web client fills its filing form from this before anyone signs in.
#[tracing::instrument(skip_all)]
pub async fn list_categories(
    state: &AppState,
    principal: Option<Principal>,
    q: CategoryQuery,
) -> AppResult<Page<CategoryView>> {
    let limit = page::limit(q.limit)?;
    let after = page::decode::<Cursor>(q.cursor.as_deref())?;
    let wants_inactive = q.include_inactive.unwrap_or(false);
    let search = search_term(q.q);
    state
        .db
        .run(move |conn| {
            let include_inactive = match (&principal, wants_inactive) {
                (Some(p), true) => load_actor(conn, p)?.role == Role::Admin,
                _ => false,
            };
            let rows = departments::list_categories(
                conn,
                include_inactive,
                search.as_deref(),
                after,
                limit + 1,
            )?;
            Ok(page::paginate(
                rows,
                limit,
                |c| (c.created_at, c.id.clone()),
                CategoryView::from,
            ))
        })
        .await
}

/// One category, active or not (admins: the console's edit form).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, category_id = %id))]
pub async fn get_category(
    state: &AppState,
    principal: Principal,
    id: String,
) -> AppResult<CategoryView> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        Ok(departments::find_category(conn, &id)?
            .ok_or_else(|| AppError::not_found("category"))?
            .into())
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, category_id = %id))]
pub async fn update_category(
    state: &AppState,
    principal: Principal,
    id: String,
    req: CategoryPatch,
) -> AppResult<CategoryView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, _| {
        let mut checks = Checks::new();
        let name = req.name.as_deref().map(|n| checks.text("name", n, 1, 100));
        let description = req
            .description
            .map(|d| checks.optional_prose("description", d.as_deref(), 1000));
        if let Some(h) = req.sla_hours {
            check_sla(&mut checks, h);
        }
        if let Some(days) = req.sla_working_days {
            check_working_days(&mut checks, days);
        }
        checks.done()?;
        departments::find_category(conn, &id)?.ok_or_else(|| AppError::not_found("category"))?;
        if let Some(d) = &req.department_id {
            require_active_department(conn, d)?;
        }
        let changes = CategoryChanges {
            name,
            description,
            department_id: req.department_id,
            sla_hours: req.sla_hours,
            sla_working_days: req.sla_working_days,
            active: req.active,
            updated_at: Some(now),
        };
        departments::update_category(conn, &id, &changes)?;
        Ok(departments::find_category(conn, &id)?
            .ok_or_else(|| AppError::not_found("category"))?
            .into())
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewStaff {
    #[schema(format = "email")]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `official` or `admin`
    pub role: Role,
    /// Required for officials.
    pub department_id: Option<String>,
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create_user(
    state: &AppState,
    principal: Principal,
    req: NewStaff,
) -> AppResult<UserView> {
    as_role(state, principal, ADMIN, false, |_, _| Ok(())).await?;
    super::auth::create_staff(
        state,
        &req.email,
        &req.name,
        req.role,
        req.department_id,
        req.password,
    )
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub role: Option<Role>,
    pub department_id: Option<String>,
    /// Part of the name (case-insensitive) or of the email.
    pub q: Option<String>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_users(
    state: &AppState,
    principal: Principal,
    q: UserQuery,
) -> AppResult<Page<UserView>> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        let limit = page::limit(q.limit)?;
        let after = page::decode::<Cursor>(q.cursor.as_deref())?;
        let role = q.role;
        let search = search_term(q.q);
        let rows = users::list(
            conn,
            role,
            q.department_id.as_deref(),
            search.as_deref(),
            after,
            limit + 1,
        )?;
        Ok(page::paginate(
            rows,
            limit,
            |u| (u.created_at, u.id.clone()),
            UserView::from,
        ))
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, target_user_id = %id))]
pub async fn get_user(state: &AppState, principal: Principal, id: String) -> AppResult<UserView> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        Ok(users::find(conn, &id)?
            .ok_or_else(|| AppError::not_found("user"))?
            .into())
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserPatch {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub department_id: Option<Option<String>>,
    /// false deactivates the user and revokes their sessions.
    pub active: Option<bool>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, target_user_id = %id))]
pub async fn update_user(
    state: &AppState,
    principal: Principal,
    id: String,
    req: UserPatch,
) -> AppResult<UserView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, actor| {
        let mut checks = Checks::new();
        let name = req.name.as_deref().map(|n| checks.text("name", n, 1, 100));
        checks.done()?;
        let user = users::find(conn, &id)?.ok_or_else(|| AppError::not_found("user"))?;
        let role = user.role;
        if let Some(department) = &req.department_id {
            match (role, department) {
                (Role::Enterprise, Some(_)) => {
                    return Err(AppError::validation(
                        "department_id",
                        "enterprise users have no department",
                    ));
                }
                (Role::Official, None) => {
                    return Err(AppError::validation(
                        "department_id",
                        "officials need a department",
                    ));
                }
                (Role::Admin, Some(_)) => {
                    return Err(AppError::validation(
                        "department_id",
                        "admins have no department",
                    ));
                }
                (_, Some(d)) => require_active_department(conn, d)?,
                _ => {}
            }
        }
        if req.active == Some(false) && user.id == actor.id.as_str() {
            return Err(AppError::new(
                ProblemType::SelfDeactivation,
                "admins cannot deactivate themselves",
            ));
        }
        let changes = UserChanges {
            name,
            department_id: req.department_id,
            active: req.active,
            enterprise_role: None,
            updated_at: Some(now),
        };
        users::update(conn, &id, &changes)?;
        if req.active == Some(false) {
            sessions::revoke_user(conn, &id, now)?;
        }
        Ok(users::find(conn, &id)?
            .ok_or_else(|| AppError::not_found("user"))?
            .into())
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Part of the name (case-insensitive) or of the credit code.
    pub q: Option<String>,
    /// Only enterprises in this status (`pending`: the review queue).
    pub status: Option<EnterpriseStatus>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_enterprises(
    state: &AppState,
    principal: Principal,
    q: EnterpriseQuery,
) -> AppResult<Page<EnterpriseView>> {
    as_role(state, principal, STAFF, false, move |conn, _| {
        let limit = page::limit(q.limit)?;
        let after = page::decode::<Cursor>(q.cursor.as_deref())?;
        let search = search_term(q.q);
        let rows = enterprises::list(conn, search.as_deref(), q.status, after, limit + 1)?;
        Ok(page::paginate(
            rows,
            limit,
            |e| (e.created_at, e.id.clone()),
            EnterpriseView::from,
        ))
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, enterprise_id = %id))]
pub async fn get_enterprise(
    state: &AppState,
    principal: Principal,
    id: String,
) -> AppResult<EnterpriseView> {
    as_role(state, principal, STAFF, false, move |conn, _| {
        Ok(enterprises::find(conn, &id)?
            .ok_or_else(|| AppError::not_found("enterprise"))?
            .into())
    })
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EnterprisePatch {
    /// `active` (approve a pending one, reactivate a suspended one), `rejected` (a pending
    /// one, with a reason) or `suspended` (an active one)
    #[schema(example = "suspended")]
    pub status: EnterpriseStatus,
    /// Required to reject; mailed to the enterprise's users and kept in its history.
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, enterprise_id = %id))]
pub async fn update_enterprise(
    state: &AppState,
    principal: Principal,
    id: String,
    req: EnterprisePatch,
) -> AppResult<EnterpriseView> {
    let now = state.clock.now();
    let mut checks = Checks::new();
    let reason = checks.optional_text("reason", req.reason.as_deref(), 1000);
    checks.done()?;
    let templates = state.templates.clone();
    as_role(state, principal, ADMIN, true, move |conn, actor| {
        let enterprise =
            enterprises::find(conn, &id)?.ok_or_else(|| AppError::not_found("enterprise"))?;
        let from = enterprise.status;
        // PATCH is idempotent: asking for the status it has changes nothing and records nothing.
        if from == req.status {
            return Ok(enterprise.into());
        }
        let kind = review(from, req.status, reason.as_deref()).map_err(|e| match e {
            ReviewError::ReasonRequired => AppError::validation("reason", e.to_string()),
            ReviewError::NotAllowed(..) => {
                AppError::new(ProblemType::InvalidEnterpriseTransition, e.to_string())
            }
        })?;
        if enterprises::set_status(conn, &id, from, req.status, reason.as_deref(), now)? == 0 {
            return Err(AppError::new(
                ProblemType::InvalidEnterpriseTransition,
                "the enterprise's status changed meanwhile",
            ));
        }
        enterprises::insert_event(
            conn,
            &NewEnterpriseEvent {
                enterprise_id: &id,
                kind,
                actor_id: Some(&actor.id),
                from_status: from,
                to_status: req.status,
                note: reason.as_deref(),
            },
            now,
        )?;
        // Reactivation must not bring back the sessions of before the suspension.
        if req.status == EnterpriseStatus::Suspended {
            sessions::revoke_enterprise(conn, &id, now)?;
        }
        for user in users::of_enterprise(conn, &id)?
            .into_iter()
            .filter(|u| u.active)
        {
            let mail = templates.compose(
                "enterprise_status",
                &user.locale,
                &user.email,
                &serde_json::json!({
                    "name": user.name,
                    "enterprise": enterprise.name,
                    "kind": kind.as_str(),
                    "reason": reason,
                }),
            )?;
            outbox::enqueue(conn, &mail, now)?;
        }
        Ok(enterprises::find(conn, &id)?
            .ok_or_else(|| AppError::not_found("enterprise"))?
            .into())
    })
    .await
}

/// The enterprise's review history, oldest first (admins).
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, enterprise_id = %id))]
pub async fn enterprise_events(
    state: &AppState,
    principal: Principal,
    id: String,
    q: PageQuery,
) -> AppResult<Page<EnterpriseEventView>> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        let limit = page::limit(q.limit)?;
        let after = page::decode::<Cursor>(q.cursor.as_deref())?;
        if enterprises::find(conn, &id)?.is_none() {
            return Err(AppError::not_found("enterprise"));
        }
        let rows = enterprises::events(conn, &id, after, limit + 1)?;
        Ok(page::paginate(
            rows,
            limit,
            |e| (e.created_at, e.id.clone()),
            EnterpriseEventView::from,
        ))
    })
    .await
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// `pending`, `sent`, `failed` or `dead`
    #[param(pattern = "^(pending|sent|failed|dead)$")]
    pub status: Option<String>,
}

/// Newest first.
#[tracing::instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_outbox(
    state: &AppState,
    principal: Principal,
    q: OutboxQuery,
) -> AppResult<Page<OutboxView>> {
    as_role(state, principal, ADMIN, false, move |conn, _| {
        let limit = page::limit(q.limit)?;
        let after = page::decode::<Cursor>(q.cursor.as_deref())?;
        let status = q
            .status
            .as_deref()
            .map(str::parse::<OutboxStatus>)
            .transpose()
            .map_err(|_| AppError::validation("status", "must be pending, sent, failed or dead"))?;
        let rows = outbox::list(conn, status, after, limit + 1)?;
        Ok(page::paginate(
            rows,
            limit,
            |o| (o.created_at, o.id.to_string()),
            OutboxView::from,
        ))
    })
    .await
}

#[tracing::instrument(skip_all, fields(user_id = %principal.user_id, mail_id = %id))]
pub async fn retry_outbox(
    state: &AppState,
    principal: Principal,
    id: OutboxId,
) -> AppResult<OutboxView> {
    let now = state.clock.now();
    as_role(state, principal, ADMIN, true, move |conn, _| {
        let row = outbox::find(conn, &id)?.ok_or_else(|| AppError::not_found("message"))?;
        if !outbox::revive(conn, &id, now)? {
            return Err(AppError::new(
                ProblemType::MessageNotDead,
                format!(
                    "only dead messages can be retried; this one is {}",
                    row.status
                ),
            ));
        }
        Ok(outbox::find(conn, &id)?
            .ok_or_else(|| AppError::not_found("message"))?
            .into())
    })
    .await
}
