//! `/admin/categories`: list and search, create and edit (the department tickets go to, and a
//! deadline in hours or in working days, never both), deactivate and reactivate.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{
    ConfirmPage, CsrfForm, ListQuery, PAGE, Pager, admin_submitter, all_departments, cursor,
    errors_under, names, require_admin,
};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::admin::{self, CategoryPatch, CategoryQuery, NewCategoryRequest};
use crate::service::auth::Principal;
use crate::service::views::{CategoryView, DepartmentView};
use crate::web::context::{Ctx, Errors, Visitor, WebError};

const FIELDS: &[&str] = &[
    "category.name",
    "category.description",
    "category.department_id",
    "category.sla_kind",
    "category.sla_hours",
    "category.sla_working_days",
];

#[derive(Template)]
#[template(path = "web/admin/categories.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    rows: Vec<CategoryView>,
    departments: HashMap<String, String>,
    q: String,
    pager: Pager,
}

impl ListPage<'_> {
    fn department(&self, id: &str) -> &str {
        self.departments.get(id).map_or("", String::as_str)
    }

    fn deadline(&self, c: &CategoryView) -> String {
        deadline(self.ctx, c)
    }
}

/// "72 小时" or "15 个工作日".
fn deadline(ctx: &Ctx, c: &CategoryView) -> String {
    match c.sla_working_days {
        Some(days) => ctx.tf("admin.categories.working_days_n", &i64::from(days)),
        None => ctx.tf("admin.categories.hours_n", &i64::from(c.sla_hours)),
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
    let query = CategoryQuery {
        limit: Some(PAGE),
        cursor: at.clone(),
        include_inactive: Some(true),
        q: Some(q.q.clone()),
    };
    let page = admin::list_categories(&state, Some(principal.clone()), query)
        .await
        .map_err(|e| v.fail(e))?;
    let departments = names(&all_departments(&state, &v, &principal).await?);
    let pager = Pager::new(
        "/admin/categories",
        &[("q", q.q.trim())],
        at.as_deref(),
        page.next_cursor.as_deref(),
    );
    v.ctx.render(
        StatusCode::OK,
        &ListPage {
            ctx: &v.ctx,
            rows: page.items,
            departments,
            q: q.q,
            pager,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "category.name")]
    name: String,
    #[serde(default, rename = "category.description")]
    description: String,
    #[serde(default, rename = "category.department_id")]
    department_id: String,
    /// `hours` or `working_days`: which of the two deadlines applies.
    #[serde(default, rename = "category.sla_kind")]
    sla_kind: String,
    #[serde(default, rename = "category.sla_hours")]
    sla_hours: String,
    #[serde(default, rename = "category.sla_working_days")]
    sla_working_days: String,
}

impl CategoryForm {
    fn description(&self) -> Option<String> {
        Some(self.description.trim().to_owned()).filter(|d| !d.is_empty())
    }

    /// What is not a number is 0, which the use case refuses with its own message.
    fn number(text: &str) -> i32 {
        text.trim().parse().unwrap_or(0)
    }

    /// The chosen deadline as (hours, working days); the kind must be chosen.
    fn deadline(&self) -> Result<(Option<i32>, Option<i32>), AppError> {
        match self.sla_kind.as_str() {
            "hours" => Ok((Some(Self::number(&self.sla_hours)), None)),
            "working_days" => Ok((None, Some(Self::number(&self.sla_working_days)))),
            _ => Err(AppError::validation(
                "sla_kind",
                "choose hours or working days",
            )),
        }
    }

    fn of(c: &CategoryView) -> CategoryForm {
        CategoryForm {
            csrf: String::new(),
            name: c.name.clone(),
            description: c.description.clone().unwrap_or_default(),
            department_id: c.department_id.clone(),
            sla_kind: if c.sla_working_days.is_some() {
                "working_days"
            } else {
                "hours"
            }
            .to_owned(),
            sla_hours: c.sla_hours.to_string(),
            sla_working_days: c
                .sla_working_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "web/admin/category.html")]
struct FormPage<'a> {
    ctx: &'a Ctx,
    /// None: a new category.
    category: Option<CategoryView>,
    departments: Vec<DepartmentView>,
    form: CategoryForm,
    errors: Errors,
}

impl FormPage<'_> {
    fn action(&self) -> String {
        match &self.category {
            Some(c) => format!("/admin/categories/{}", c.id),
            None => "/admin/categories".to_owned(),
        }
    }
}

async fn form_page(
    state: &AppState,
    v: &Visitor,
    principal: &Principal,
    category: Option<CategoryView>,
    form: CategoryForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let departments = all_departments(state, v, principal)
        .await?
        .into_iter()
        .filter(|d| d.active || d.id == form.department_id)
        .collect();
    v.ctx.render(
        errors.status(),
        &FormPage {
            ctx: &v.ctx,
            category,
            departments,
            form,
            errors,
        },
    )
}

pub async fn new_form(state: web::Data<AppState>, v: Visitor) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let form = CategoryForm {
        sla_kind: "working_days".to_owned(),
        ..CategoryForm::default()
    };
    form_page(&state, &v, &principal, None, form, Errors::default()).await
}

pub async fn edit_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let c = admin::get_category(&state, principal.clone(), id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    let form = CategoryForm::of(&c);
    form_page(&state, &v, &principal, Some(c), form, Errors::default()).await
}

/// Field errors as the form's; anything else goes to its page.
fn form_errors(ctx: &Ctx, e: AppError) -> Result<Errors, AppError> {
    match e {
        AppError::Invalid { errors, .. } => Ok(errors_under(ctx, "category", &errors, FIELDS)),
        e => Err(e),
    }
}

pub async fn create(
    state: web::Data<AppState>,
    mut v: Visitor,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let form = form.into_inner();
    let result = match form.deadline() {
        Ok((hours, days)) => {
            let req = NewCategoryRequest {
                name: form.name.clone(),
                description: form.description(),
                department_id: form.department_id.clone(),
                // The API wants hours even when working days apply (they are then unused):
                // a day's worth per working day keeps the stored figure plausible.
                sla_hours: hours.unwrap_or_else(|| days.unwrap_or(1).clamp(1, 365) * 24),
                sla_working_days: days,
            };
            admin::create_category(&state, principal.clone(), req).await
        }
        Err(e) => Err(e),
    };
    let errors = match result {
        Ok(_) => {
            v.ctx.flash_next("flash.category_created");
            return Ok(v.ctx.redirect("/admin/categories"));
        }
        Err(e) => form_errors(&v.ctx, e).map_err(|e| v.fail(e))?,
    };
    v.ctx.has_errors = true;
    form_page(&state, &v, &principal, None, form, errors).await
}

pub async fn update(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<CategoryForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let id = id.into_inner();
    let form = form.into_inner();
    let result = match form.deadline() {
        Ok((hours, days)) => {
            let patch = CategoryPatch {
                name: Some(form.name.clone()),
                description: Some(form.description()),
                department_id: Some(form.department_id.clone()),
                sla_hours: hours,
                // Choosing hours clears the working days, so hours apply again.
                sla_working_days: Some(days),
                active: None,
            };
            admin::update_category(&state, principal.clone(), id.clone(), patch).await
        }
        Err(e) => Err(e),
    };
    let errors = match result {
        Ok(_) => {
            v.ctx.flash_next("flash.category_saved");
            return Ok(v.ctx.redirect("/admin/categories"));
        }
        Err(e) => form_errors(&v.ctx, e).map_err(|e| v.fail(e))?,
    };
    let c = admin::get_category(&state, principal.clone(), id)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.has_errors = true;
    form_page(&state, &v, &principal, Some(c), form, errors).await
}

pub async fn deactivate_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let c = admin::get_category(&state, principal, id.into_inner())
        .await
        .map_err(|e| v.fail(e))?;
    ConfirmPage::new(
        &v.ctx,
        v.ctx.ts("admin.categories.deactivate_h1", &c.name),
        deadline(&v.ctx, &c),
        "admin.categories.deactivate_consequence",
    )
    .post(
        format!("/admin/categories/{}/deactivate", c.id),
        "admin.categories.deactivate",
        "/admin/categories".to_owned(),
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
    let patch = CategoryPatch {
        name: None,
        description: None,
        department_id: None,
        sla_hours: None,
        sla_working_days: None,
        active: Some(ACTIVE),
    };
    admin::update_category(&state, principal, id.into_inner(), patch)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next(if ACTIVE {
        "flash.category_activated"
    } else {
        "flash.category_deactivated"
    });
    Ok(v.ctx.redirect("/admin/categories"))
}
