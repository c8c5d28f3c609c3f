//! `/admin/users`: everyone, by role, department and name or email; staff accounts created
//! here; an official moved to another department; deactivation (confirmed) and reactivation.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{
    ConfirmPage, CsrfForm, ListQuery, PAGE, Pager, admin_submitter, all_departments, cursor,
    errors_under, names, require_admin,
};
use crate::domain::role::Role;
use crate::error::{AppError, ProblemType};
use crate::service::AppState;
use crate::service::admin::{self, NewStaff, UserPatch, UserQuery};
use crate::service::auth::Principal;
use crate::service::views::{DepartmentView, UserView};
use crate::web::context::{Ctx, Errors, Visitor, WebError};

const FIELDS: &[&str] = &[
    "staff.name",
    "staff.email",
    "staff.role",
    "staff.department_id",
    "staff.password",
];

fn role_key(role: Role) -> &'static str {
    match role {
        Role::Enterprise => "admin.users.role_enterprise",
        Role::Official => "admin.users.role_official",
        Role::Admin => "admin.users.role_admin",
    }
}

#[derive(Template)]
#[template(path = "web/admin/users.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    rows: Vec<UserView>,
    departments: Vec<DepartmentView>,
    names: HashMap<String, String>,
    q: String,
    role: String,
    department_id: String,
    pager: Pager,
}

impl ListPage<'_> {
    fn department(&self, u: &UserView) -> &str {
        u.department_id
            .as_ref()
            .and_then(|id| self.names.get(id))
            .map_or("", String::as_str)
    }

    fn role(&self, role: &Role) -> &str {
        self.ctx.t(role_key(*role))
    }

    fn roles(&self) -> [Role; 3] {
        Role::ALL
    }

    fn filtered(&self) -> bool {
        !(self.q.trim().is_empty() && self.role.is_empty() && self.department_id.is_empty())
    }
}

pub async fn list(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let q = q.into_inner();
    let at = cursor(&q.cursor);
    let role = q.role.parse::<Role>().ok();
    let department_id = Some(q.department_id.clone()).filter(|d| !d.is_empty());
    let query = UserQuery {
        limit: Some(PAGE),
        cursor: at.clone(),
        role,
        department_id,
        q: Some(q.q.clone()),
    };
    let page = admin::list_users(&state, principal.clone(), query)
        .await
        .map_err(|e| v.fail(e))?;
    let departments = all_departments(&state, &v, &principal).await?;
    let role = role.map_or("", Role::as_str).to_owned();
    let pager = Pager::new(
        "/admin/users",
        &[
            ("q", q.q.trim()),
            ("role", &role),
            ("department_id", &q.department_id),
        ],
        at.as_deref(),
        page.next_cursor.as_deref(),
    );
    v.ctx.render(
        StatusCode::OK,
        &ListPage {
            ctx: &v.ctx,
            rows: page.items,
            names: names(&departments),
            departments,
            q: q.q,
            role,
            department_id: q.department_id,
            pager,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct StaffForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "staff.name")]
    name: String,
    #[serde(default, rename = "staff.email")]
    email: String,
    #[serde(default, rename = "staff.role")]
    role: String,
    #[serde(default, rename = "staff.department_id")]
    department_id: String,
    #[serde(default, rename = "staff.password")]
    password: String,
}

#[derive(Template)]
#[template(path = "web/admin/user_new.html")]
struct NewPage<'a> {
    ctx: &'a Ctx,
    departments: Vec<DepartmentView>,
    form: StaffForm,
    errors: Errors,
}

async fn new_page(
    state: &AppState,
    v: &Visitor,
    principal: &Principal,
    form: StaffForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let departments = all_departments(state, v, principal)
        .await?
        .into_iter()
        .filter(|d| d.active)
        .collect();
    v.ctx.render(
        errors.status(),
        &NewPage {
            ctx: &v.ctx,
            departments,
            form,
            errors,
        },
    )
}

pub async fn new_form(state: web::Data<AppState>, v: Visitor) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let form = StaffForm {
        role: Role::Official.as_str().to_owned(),
        ..StaffForm::default()
    };
    new_page(&state, &v, &principal, form, Errors::default()).await
}

pub async fn create(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<StaffForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let mut form = form.into_inner();
    let result = match form.role.parse::<Role>() {
        Ok(role) if role != Role::Enterprise => {
            let req = NewStaff {
                email: form.email.clone(),
                name: form.name.clone(),
                role,
                // An admin has no department, whatever the select still says.
                department_id: Some(form.department_id.clone())
                    .filter(|d| !d.is_empty() && role == Role::Official),
                password: std::mem::take(&mut form.password),
            };
            admin::create_user(&state, principal.clone(), req).await
        }
        _ => Err(AppError::validation("role", "must be official or admin")),
    };
    let errors = match result {
        Ok(_) => {
            v.ctx.flash_next("flash.staff_created");
            return Ok(v.ctx.redirect("/admin/users"));
        }
        Err(AppError::Invalid { errors, .. }) => errors_under(&v.ctx, "staff", &errors, FIELDS),
        Err(e) if e.kind() == ProblemType::EmailTaken => {
            Errors::one(&v.ctx, "staff.email", "field.email_taken")
        }
        Err(e) => return Err(v.fail(e)),
    };
    v.ctx.has_errors = true;
    new_page(&state, &v, &principal, form, errors).await
}

#[derive(Template)]
#[template(path = "web/admin/user.html")]
struct UserPage<'a> {
    ctx: &'a Ctx,
    u: UserView,
    department: String,
    /// Where an official may move to: the other active departments.
    departments: Vec<DepartmentView>,
    /// The admin looking at their own account cannot deactivate it.
    is_self: bool,
    errors: Errors,
}

impl UserPage<'_> {
    fn role(&self) -> &str {
        self.ctx.t(role_key(self.u.role))
    }

    fn is_official(&self) -> bool {
        self.u.role == Role::Official
    }
}

async fn user_page(
    state: &AppState,
    v: &Visitor,
    principal: Principal,
    id: String,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let is_self = principal.user_id == id;
    let u = admin::get_user(state, principal.clone(), id)
        .await
        .map_err(|e| v.fail(e))?;
    let all = all_departments(state, v, &principal).await?;
    let department = u
        .department_id
        .as_ref()
        .and_then(|id| names(&all).remove(id))
        .unwrap_or_default();
    let departments = all
        .into_iter()
        .filter(|d| d.active && Some(&d.id) != u.department_id.as_ref())
        .collect();
    v.ctx.render(
        errors.status(),
        &UserPage {
            ctx: &v.ctx,
            u,
            department,
            departments,
            is_self,
            errors,
        },
    )
}

pub async fn show(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    user_page(&state, &v, principal, id.into_inner(), Errors::default()).await
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    department_id: String,
}

pub async fn move_department(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let id = id.into_inner();
    let patch = UserPatch {
        name: None,
        department_id: Some(Some(form.department_id.clone())),
        active: None,
    };
    match admin::update_user(&state, principal.clone(), id.clone(), patch).await {
        Ok(_) => {
            v.ctx.flash_next("flash.user_moved");
            Ok(v.ctx.redirect(&format!("/admin/users/{id}")))
        }
        Err(AppError::Invalid { .. }) => {
            let errors = Errors::one(&v.ctx, "department_id", "field.staff.move");
            v.ctx.has_errors = true;
            user_page(&state, &v, principal, id, errors).await
        }
        Err(e) => Err(v.fail(e)),
    }
}

pub async fn deactivate_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let u = admin::get_user(&state, principal, id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    ConfirmPage::new(
        &v.ctx,
        v.ctx.ts("admin.users.deactivate_h1", &u.name),
        u.email.clone(),
        "admin.users.deactivate_consequence",
    )
    .post(
        format!("/admin/users/{}/deactivate", u.id),
        "admin.users.deactivate",
        format!("/admin/users/{}", u.id),
    )
    .show()
}

/// `activate`, and `deactivate` once confirmed: one handler, registered for each.
pub async fn set_active<const ACTIVE: bool>(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let patch = UserPatch {
        name: None,
        department_id: None,
        active: Some(ACTIVE),
    };
    let id = id.into_inner();
    // One's own account has no deactivate link; a forged request gets the conflict page.
    admin::update_user(&state, principal, id.clone(), patch)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next(if ACTIVE {
        "flash.user_activated"
    } else {
        "flash.user_deactivated"
    });
    Ok(v.ctx.redirect(&format!("/admin/users/{id}")))
}
