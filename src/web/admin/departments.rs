//! `/admin/departments`: list and search, create, rename, deactivate and reactivate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{
    ConfirmPage, CsrfForm, ListQuery, PAGE, Pager, admin_submitter, cursor, errors_under,
    require_admin,
};
use crate::error::{AppError, ProblemType};
use crate::service::AppState;
use crate::service::admin::{self, DepartmentPatch, DepartmentQuery, NewDepartment};
use crate::service::views::DepartmentView;
use crate::web::context::{Ctx, Errors, Visitor, WebError};

const FIELDS: &[&str] = &["department.name", "department.description"];

#[derive(Template)]
#[template(path = "web/admin/departments.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    rows: Vec<DepartmentView>,
    q: String,
    pager: Pager,
    form: DepartmentForm,
    errors: Errors,
}

#[derive(Debug, Default, Deserialize)]
pub struct DepartmentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "department.name")]
    name: String,
    #[serde(default, rename = "department.description")]
    description: String,
}

impl DepartmentForm {
    fn description(&self) -> Option<String> {
        Some(self.description.trim().to_owned()).filter(|d| !d.is_empty())
    }
}

async fn list_page(
    state: &AppState,
    v: &Visitor,
    q: ListQuery,
    form: DepartmentForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(v)?;
    let at = cursor(&q.cursor);
    let query = DepartmentQuery {
        limit: Some(PAGE),
        cursor: at.clone(),
        q: Some(q.q.clone()),
    };
    let page = admin::list_departments(state, principal, query)
        .await
        .map_err(|e| v.fail(e))?;
    let q_term = q.q.trim();
    let pager = Pager::new(
        "/admin/departments",
        &[("q", q_term)],
        at.as_deref(),
        page.next_cursor.as_deref(),
    );
    v.ctx.render(
        errors.status(),
        &ListPage {
            ctx: &v.ctx,
            rows: page.items,
            q: q.q,
            pager,
            form,
            errors,
        },
    )
}

pub async fn list(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    list_page(
        &state,
        &v,
        q.into_inner(),
        DepartmentForm::default(),
        Errors::default(),
    )
    .await
}

/// The use case's refusal as the form's errors: field errors and a taken name.
fn form_errors(ctx: &Ctx, e: AppError) -> Result<Errors, AppError> {
    match e {
        AppError::Invalid { errors, .. } => Ok(errors_under(ctx, "department", &errors, FIELDS)),
        e if e.kind() == ProblemType::DepartmentNameTaken => Ok(Errors::one(
            ctx,
            "department.name",
            "field.department.name_taken",
        )),
        e => Err(e),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<DepartmentForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let form = form.into_inner();
    let req = NewDepartment {
        name: form.name.clone(),
        description: form.description(),
    };
    let errors = match admin::create_department(&state, principal, req).await {
        Ok(_) => {
            v.ctx.flash_next("flash.department_created");
            return Ok(v.ctx.redirect("/admin/departments"));
        }
        Err(e) => form_errors(&v.ctx, e).map_err(|e| v.fail(e))?,
    };
    v.ctx.has_errors = true;
    list_page(&state, &v, ListQuery::default(), form, errors).await
}

#[derive(Template)]
#[template(path = "web/admin/department.html")]
struct EditPage<'a> {
    ctx: &'a Ctx,
    d: DepartmentView,
    form: DepartmentForm,
    errors: Errors,
}

pub async fn edit_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let d = admin::get_department(&state, principal, id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    let form = DepartmentForm {
        csrf: String::new(),
        name: d.name.clone(),
        description: d.description.clone().unwrap_or_default(),
    };
    v.ctx.render(
        StatusCode::OK,
        &EditPage {
            ctx: &v.ctx,
            d,
            form,
            errors: Errors::default(),
        },
    )
}

pub async fn update(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<DepartmentForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let patch = DepartmentPatch {
        name: Some(form.name.clone()),
        description: Some(form.description()),
        active: None,
    };
    let errors = match admin::update_department(&state, principal.clone(), id.clone(), patch).await
    {
        Ok(_) => {
            v.ctx.flash_next("flash.department_saved");
            return Ok(v.ctx.redirect("/admin/departments"));
        }
        Err(e) => form_errors(&v.ctx, e).map_err(|e| v.fail(e))?,
    };
    let d = admin::get_department(&state, principal, id)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.has_errors = true;
    v.ctx.render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &EditPage {
            ctx: &v.ctx,
            d,
            form,
            errors,
        },
    )
}

pub async fn deactivate_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let d = admin::get_department(&state, principal, id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    ConfirmPage::new(
        &v.ctx,
        v.ctx.ts("admin.departments.deactivate_h1", &d.name),
        d.description.clone().unwrap_or_default(),
        "admin.departments.deactivate_consequence",
    )
    .post(
        format!("/admin/departments/{}/deactivate", d.id),
        "admin.departments.deactivate",
        "/admin/departments".to_owned(),
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
    let patch = DepartmentPatch {
        name: None,
        description: None,
        active: Some(ACTIVE),
    };
    admin::update_department(&state, principal, id.into_inner(), patch)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next(if ACTIVE {
        "flash.department_activated"
    } else {
        "flash.department_deactivated"
    });
    Ok(v.ctx.redirect("/admin/departments"))
}
