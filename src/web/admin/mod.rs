//! The administrators' console (`/admin/…`): departments, categories, staff, enterprises, the
//! working calendar and the outbox, over the same `service::admin` and `service::calendar`
//! use cases as the API. Lists search and page by keyset; every destructive act goes through
//! a confirmation page holding the real POST button.

pub mod calendar;
pub mod categories;
pub mod departments;
pub mod enterprises;
pub mod outbox;
pub mod users;

use std::collections::HashMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use chrono::NaiveDateTime;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError};
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};
use crate::service::AppState;
use crate::service::admin::{self, DepartmentQuery};
use crate::service::auth::Principal;
use crate::service::page;
use crate::service::views::DepartmentView;

/// Lines per page of every admin list.
const PAGE: i64 = 20;

/// The signed-in admin; anyone else gets the 403 page before any use case runs.
fn require_admin(v: &Visitor) -> Result<Principal, WebError> {
    let principal = v.principal()?;
    if principal.role != Role::Admin {
        return Err(v.fail(AppError::forbidden("administrators only")));
    }
    Ok(principal)
}

/// The admin sending a form, once its CSRF token passed; anyone else gets the 403 page.
fn admin_submitter(v: &Visitor, csrf: &str) -> Result<Principal, WebError> {
    let principal = require_admin(v)?;
    v.check_csrf(csrf)?;
    Ok(principal)
}

/// `path?k=v&…` without the empty values.
fn link(path: &str, params: &[(&str, &str)]) -> String {
    let kept: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(kept) {
        Ok(q) if !q.is_empty() => format!("{path}?{q}"),
        _ => path.to_owned(),
    }
}

/// A cursor from an old or edited link starts the list again instead of failing.
fn cursor(c: &Option<String>) -> Option<String> {
    c.clone()
        .filter(|c| page::decode::<(NaiveDateTime, String)>(Some(c)).is_ok())
}

/// The list's page links: back to the first page once past it, and the next one if any.
pub struct Pager {
    pub first: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    fn new(
        path: &str,
        filters: &[(&str, &str)],
        cursor: Option<&str>,
        next: Option<&str>,
    ) -> Pager {
        let with = |c: &str| {
            let mut all = filters.to_vec();
            all.push(("cursor", c));
            link(path, &all)
        };
        Pager {
            first: cursor.map(|_| link(path, filters)),
            next: next.map(with),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.next.is_none()
    }
}

/// The list filters every admin page reads from its query string.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    cursor: Option<String>,
    #[serde(default)]
    status: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    department_id: String,
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// A use case's field errors for a form whose inputs are named `prefix.field`, so each form
/// has its own messages (`field.department.name`, not the user's `field.name`).
fn errors_under(ctx: &Ctx, prefix: &str, fields: &[FieldError], known: &[&str]) -> Errors {
    let renamed: Vec<FieldError> = fields
        .iter()
        .map(|f| FieldError::new(format!("{prefix}.{}", f.field), f.message.clone()))
        .collect();
    Errors::from_fields(ctx, &renamed, known)
}

/// Every department, active or not (a district has dozens): for names and choices.
async fn all_departments(
    state: &AppState,
    v: &Visitor,
    principal: &Principal,
) -> Result<Vec<DepartmentView>, WebError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let q = DepartmentQuery {
            limit: Some(page::MAX_LIMIT),
            cursor: after,
            q: None,
        };
        let page = admin::list_departments(state, principal.clone(), q)
            .await
            .map_err(|e| v.fail(e))?;
        all.extend(page.items);
        match page.next_cursor {
            Some(c) => after = Some(c),
            None => return Ok(all),
        }
    }
}

fn names(departments: &[DepartmentView]) -> HashMap<String, String> {
    departments
        .iter()
        .map(|d| (d.id.clone(), d.name.clone()))
        .collect()
}

#[derive(Template)]
#[template(path = "web/admin/index.html")]
struct IndexPage<'a> {
    ctx: &'a Ctx,
}

pub async fn index(v: Visitor) -> Result<HttpResponse, WebError> {
    require_admin(&v)?;
    v.ctx.render(StatusCode::OK, &IndexPage { ctx: &v.ctx })
}

/// A destructive act's second step: what it is done to, what follows, and the POST button.
/// With `note`, a text box (a rejection's reason, a suspension's).
#[derive(Template)]
#[template(path = "web/admin/confirm.html")]
struct ConfirmPage<'a> {
    ctx: &'a Ctx,
    h1: String,
    thing: String,
    consequence: &'a str,
    action: String,
    /// Hidden fields beside the CSRF token.
    fields: Vec<(&'static str, String)>,
    submit: &'a str,
    back: String,
    note: Option<Note<'a>>,
    errors: Errors,
}

struct Note<'a> {
    label: &'a str,
    hint: &'a str,
    value: String,
}

impl<'a> ConfirmPage<'a> {
    fn new(ctx: &'a Ctx, h1: String, thing: String, consequence_key: &'a str) -> Self {
        ConfirmPage {
            ctx,
            h1,
            thing,
            consequence: ctx.t(consequence_key),
            action: String::new(),
            fields: Vec::new(),
            submit: "",
            back: String::new(),
            note: None,
            errors: Errors::default(),
        }
    }

    fn post(mut self, action: String, submit_key: &'a str, back: String) -> Self {
        self.action = action;
        self.submit = self.ctx.t(submit_key);
        self.back = back;
        self
    }

    fn show(&self) -> Result<HttpResponse, WebError> {
        self.ctx.render(self.errors.status(), self)
    }
}
