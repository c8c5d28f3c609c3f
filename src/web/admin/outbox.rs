//! `/admin/outbox`: the mail queue by status, newest first; a dead message goes back to the
//! queue with one button (retrying sends at most one more copy, nothing is lost by it).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{CsrfForm, ListQuery, PAGE, Pager, admin_submitter, cursor, link, require_admin};
use crate::service::AppState;
use crate::service::admin::{self, OutboxQuery};
use crate::service::views::OutboxView;
use crate::web::context::{Ctx, Visitor, WebError};

/// The outbox's states, as `GET /admin/outbox?status=` takes them.
const STATUSES: [&str; 4] = ["pending", "sent", "failed", "dead"];

#[derive(Template)]
#[template(path = "web/admin/outbox.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    rows: Vec<OutboxView>,
    status: String,
    pager: Pager,
}

impl ListPage<'_> {
    fn statuses(&self) -> [&'static str; 4] {
        STATUSES
    }

    fn is_status(&self, s: &str) -> bool {
        self.status == s
    }

    fn status_label(&self, s: &str) -> &str {
        self.ctx.t(match s {
            "pending" => "admin.outbox.pending",
            "sent" => "admin.outbox.sent",
            "failed" => "admin.outbox.failed",
            _ => "admin.outbox.dead",
        })
    }

    fn status_class(&self, s: &str) -> &'static str {
        match s {
            "sent" => "tag-green",
            "failed" => "tag-amber",
            "dead" => "tag-red",
            _ => "tag-grey",
        }
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
    let status = STATUSES
        .iter()
        .find(|s| **s == q.status)
        .map_or("", |s| *s)
        .to_owned();
    let query = OutboxQuery {
        limit: Some(PAGE),
        cursor: at.clone(),
        status: Some(status.clone()).filter(|s| !s.is_empty()),
    };
    let page = admin::list_outbox(&state, principal, query)
        .await
        .map_err(|e| v.fail(e))?;
    let pager = Pager::new(
        "/admin/outbox",
        &[("status", &status)],
        at.as_deref(),
        page.next_cursor.as_deref(),
    );
    v.ctx.render(
        StatusCode::OK,
        &ListPage {
            ctx: &v.ctx,
            rows: page.items,
            status,
            pager,
        },
    )
}

pub async fn retry(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, WebError> {
    let principal = admin_submitter(&v, &form.csrf)?;
    admin::retry_outbox(&state, principal, id.into_inner().into())
        .await
        .map_err(|e| v.fail(e))?;
    v.ctx.flash_next("flash.mail_retried");
    Ok(v.ctx
        .redirect(&link("/admin/outbox", &[("status", "dead")])))
}
