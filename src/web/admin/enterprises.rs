//! `/admin/enterprises`: the review queue (pending) first, then every enterprise by name or
//! credit code and status; one enterprise with its review history and the moves its status
//! allows: approve, reject with a reason, suspend, reactivate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{
    ConfirmPage, CsrfForm, ListQuery, Note, PAGE, Pager, admin_submitter, cursor, require_admin,
};
use crate::domain::enterprise::{EnterpriseEventKind, EnterpriseStatus};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::admin::{self, EnterprisePatch, EnterpriseQuery, PageQuery};
use crate::service::views::{EnterpriseEventView, EnterpriseView};
use crate::web::context::{Ctx, Errors, Visitor, WebError};

fn status_key(s: EnterpriseStatus) -> &'static str {
    match s {
        EnterpriseStatus::Pending => "enterprise.status_pending",
        EnterpriseStatus::Active => "enterprise.status_active",
        EnterpriseStatus::Rejected => "enterprise.status_rejected",
        EnterpriseStatus::Suspended => "enterprise.status_suspended",
    }
}

fn status_class(s: EnterpriseStatus) -> &'static str {
    match s {
        EnterpriseStatus::Pending => "tag-amber",
        EnterpriseStatus::Active => "tag-green",
        EnterpriseStatus::Rejected => "tag-red",
        EnterpriseStatus::Suspended => "tag-grey",
    }
}

#[derive(Template)]
#[template(path = "web/admin/enterprises.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    /// The first page of the review queue, shown above an unfiltered list.
    pending: Vec<EnterpriseView>,
    more_pending: bool,
    rows: Vec<EnterpriseView>,
    q: String,
    status: String,
    pager: Pager,
}

impl ListPage<'_> {
    fn status(&self, s: &EnterpriseStatus) -> &str {
        self.ctx.t(status_key(*s))
    }

    fn class(&self, s: &EnterpriseStatus) -> &'static str {
        status_class(*s)
    }

    fn statuses(&self) -> [EnterpriseStatus; 4] {
        EnterpriseStatus::ALL
    }

    fn filtered(&self) -> bool {
        !(self.q.trim().is_empty() && self.status.is_empty())
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
    let status = q.status.parse::<EnterpriseStatus>().ok();
    let query = EnterpriseQuery {
        limit: Some(PAGE),
        cursor: at.clone(),
        q: Some(q.q.clone()),
        status,
    };
    let page = admin::list_enterprises(&state, principal.clone(), query)
        .await
        .map_err(|e| v.fail(e))?;
    let unfiltered = q.q.trim().is_empty() && status.is_none() && at.is_none();
    let (pending, more_pending) = if unfiltered {
        let query = EnterpriseQuery {
            limit: Some(PAGE),
            status: Some(EnterpriseStatus::Pending),
            ..EnterpriseQuery::default()
        };
        let queue = admin::list_enterprises(&state, principal, query)
            .await
            .map_err(|e| v.fail(e))?;
        (queue.items, queue.next_cursor.is_some())
    } else {
        (Vec::new(), false)
    };
    let status = status.map_or("", EnterpriseStatus::as_str).to_owned();
    let pager = Pager::new(
        "/admin/enterprises",
        &[("q", q.q.trim()), ("status", &status)],
        at.as_deref(),
        page.next_cursor.as_deref(),
    );
    v.ctx.render(
        StatusCode::OK,
        &ListPage {
            ctx: &v.ctx,
            pending,
            more_pending,
            rows: page.items,
            q: q.q,
            status,
            pager,
        },
    )
}

#[derive(Template)]
#[template(path = "web/admin/enterprise.html")]
struct ShowPage<'a> {
    ctx: &'a Ctx,
    e: EnterpriseView,
    events: Vec<EnterpriseEventView>,
}

impl ShowPage<'_> {
    fn status(&self) -> &str {
        self.ctx.t(status_key(self.e.status))
    }

    fn class(&self) -> &'static str {
        status_class(self.e.status)
    }

    fn is(&self, s: &str) -> bool {
        self.e.status.as_str() == s
    }

    fn event(&self, kind: &EnterpriseEventKind) -> &str {
        self.ctx.t(match kind {
            EnterpriseEventKind::Approved => "admin.enterprises.event_approved",
            EnterpriseEventKind::Rejected => "admin.enterprises.event_rejected",
            EnterpriseEventKind::Suspended => "admin.enterprises.event_suspended",
            EnterpriseEventKind::Reactivated => "admin.enterprises.event_reactivated",
        })
    }
}

pub async fn show(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(&v)?;
    let id = id.into_inner();
    let e = admin::get_enterprise(&state, principal.clone(), id.clone())
        .await
        .map_err(|e| v.fail(e))?;
    // A history longer than a page is rare: the latest decisions are what matter here.
    let q = PageQuery {
        limit: Some(100),
        cursor: None,
    };
    let events = admin::enterprise_events(&state, principal, id, q)
        .await
        .map_err(|e| v.fail(e))?
        .items;
    v.ctx.render(
        StatusCode::OK,
        &ShowPage {
            ctx: &v.ctx,
            e,
            events,
        },
    )
}

#[derive(Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Approve and reactivate change nothing that cannot be undone: one button, no second step.
async fn decide(
    state: &AppState,
    mut v: Visitor,
    id: String,
    csrf: &str,
    to: EnterpriseStatus,
    reason: Option<String>,
    flash: &'static str,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, csrf)?;
    let patch = EnterprisePatch { status: to, reason };
    admin::update_enterprise(state, principal, id.clone(), patch)
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next(flash);
    Ok(v.ctx.redirect(&format!("/admin/enterprises/{id}")))
}

pub async fn approve(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let to = EnterpriseStatus::Active;
    decide(
        &state,
        v,
        id.into_inner(),
        &form.csrf,
        to,
        None,
        "flash.enterprise_approved",
    )
    .await
}

pub async fn reactivate(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let to = EnterpriseStatus::Active;
    let flash = "flash.enterprise_reactivated";
    decide(&state, v, id.into_inner(), &form.csrf, to, None, flash).await
}

/// Which second step: rejecting a pending enterprise (a reason required) or suspending an
/// active one (a reason optional).
#[derive(Clone, Copy)]
enum Step {
    Reject,
    Suspend,
}

impl Step {
    fn path(self) -> &'static str {
        match self {
            Step::Reject => "reject",
            Step::Suspend => "suspend",
        }
    }

    fn key(self, what: &str) -> String {
        format!("admin.enterprises.{}_{what}", self.path())
    }
}

async fn step_page(
    state: &AppState,
    v: &Visitor,
    id: String,
    step: Step,
    reason: String,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let principal = require_admin(v)?;
    let e = admin::get_enterprise(state, principal, id)
        .await
        .map_err(|e| v.fail(e))?;
    let (action, h1, consequence, submit, label, hint) = (
        format!("/admin/enterprises/{}/{}", e.id, step.path()),
        v.ctx.ts(&step.key("h1"), &e.name),
        step.key("consequence"),
        step.key("submit"),
        step.key("reason"),
        step.key("reason_hint"),
    );
    let mut page = ConfirmPage::new(&v.ctx, h1, e.credit_code.clone(), &consequence).post(
        action,
        &submit,
        format!("/admin/enterprises/{}", e.id),
    );
    page.note = Some(Note {
        label: v.ctx.t(&label),
        hint: v.ctx.t(&hint),
        value: reason,
    });
    page.errors = errors;
    page.show()
}

async fn step_submit(
    state: &AppState,
    mut v: Visitor,
    id: String,
    form: ReviewForm,
    step: Step,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    let reason = Some(form.reason.trim().to_owned()).filter(|r| !r.is_empty());
    let (to, flash) = match step {
        Step::Reject => (EnterpriseStatus::Rejected, "flash.enterprise_rejected"),
        Step::Suspend => (EnterpriseStatus::Suspended, "flash.enterprise_suspended"),
    };
    let patch = EnterprisePatch { status: to, reason };
    match admin::update_enterprise(state, principal, id.clone(), patch).await {
        Ok(_) => {
            v.ctx.flash_next(flash);
            Ok(v.ctx.redirect(&format!("/admin/enterprises/{id}")))
        }
        Err(AppError::Invalid { .. }) => {
            v.ctx.has_errors = true;
            let errors = Errors::one(&v.ctx, "reason", &step.key("reason_error"));
            step_page(state, &v, id, step, form.reason, errors).await
        }
        Err(e) => Err(v.fail(e)),
    }
}

pub async fn reject_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    step_page(
        &state,
        &v,
        id,
        Step::Reject,
        String::new(),
        Errors::default(),
    )
    .await
}

pub async fn reject(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, WebError> {
    step_submit(&state, v, id.into_inner(), form.into_inner(), Step::Reject).await
}

pub async fn suspend_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let id = id.into_inner();
    step_page(
        &state,
        &v,
        id,
        Step::Suspend,
        String::new(),
        Errors::default(),
    )
    .await
}

pub async fn suspend(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    form: web::Form<ReviewForm>,
) -> Result<HttpResponse, WebError> {
    step_submit(&state, v, id.into_inner(), form.into_inner(), Step::Suspend).await
}
