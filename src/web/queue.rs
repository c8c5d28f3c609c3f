//! The officials' work queue: one tab per view with its count, filters, search, sort by
//! deadline or filing, keyset pages. Staff land here after signing in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError};
use super::tickets::{Due, due, priority_key, status_class};
use crate::domain::role::Role;
use crate::domain::ticket::{Priority, TicketStatus};
use crate::error::AppError;
use crate::service::AppState;
use crate::service::admin::{self, EnterpriseQuery};
use crate::service::console::{self, DepartmentGroup};
use crate::service::queue::{self, QueueView};
use crate::service::tickets::TicketView;

/// A tab: the view, its count, and where it links (the filters kept).
pub struct Tab {
    pub view: QueueView,
    pub count: i64,
    pub href: String,
    pub current: bool,
}

/// A row of the table.
pub struct Row {
    pub t: TicketView,
    pub due: Due,
    pub enterprise: String,
    pub assignee: String,
}

#[derive(Deserialize, Default, Clone)]
pub struct QueueQuery {
    #[serde(default)]
    view: String,
    /// `open` (default), `any`, or one status.
    #[serde(default)]
    status: String,
    #[serde(default)]
    category_id: String,
    #[serde(default)]
    priority: String,
    /// The enterprise's name or credit code, or part of it.
    #[serde(default)]
    enterprise: String,
    #[serde(default)]
    created_from: String,
    #[serde(default)]
    created_to: String,
    #[serde(default)]
    q: String,
    /// `created` (newest first, default) or `due` (earliest deadline first).
    #[serde(default)]
    sort: String,
    cursor: Option<String>,
}

impl QueueQuery {
    /// The query string of this view and its filters (no cursor), for links.
    fn link(&self, view: QueueView, cursor: Option<&str>) -> String {
        let pairs = [
            ("view", view.as_str()),
            ("status", self.status.as_str()),
            ("category_id", self.category_id.as_str()),
            ("priority", self.priority.as_str()),
            ("enterprise", self.enterprise.trim()),
            ("created_from", self.created_from.as_str()),
            ("created_to", self.created_to.as_str()),
            ("q", self.q.trim()),
            ("sort", self.sort.as_str()),
            ("cursor", cursor.unwrap_or_default()),
        ];
        let kept: Vec<_> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
        format!(
            "/queue?{}",
            serde_urlencoded::to_string(kept).unwrap_or_default()
        )
    }

    fn filtered(&self) -> bool {
        [
            &self.status,
            &self.category_id,
            &self.priority,
            &self.enterprise,
            &self.created_from,
            &self.created_to,
            &self.q,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

#[derive(Template)]
#[template(path = "web/queue.html")]
struct QueuePage<'a> {
    ctx: &'a Ctx,
    tabs: Vec<Tab>,
    view: QueueView,
    rows: Vec<Row>,
    f: QueueQuery,
    groups: Vec<DepartmentGroup>,
    statuses: Vec<TicketStatus>,
    priorities: Vec<Priority>,
    errors: Errors,
    next: Option<String>,
    first: Option<String>,
}

impl QueuePage<'_> {
    fn status_class(&self, s: &TicketStatus) -> &'static str {
        status_class(s)
    }

    fn priority_key(&self, p: &Priority) -> &'static str {
        priority_key(p)
    }

    fn view_key(&self, v: &QueueView) -> String {
        format!("queue.view_{}", v.as_str())
    }
}

/// The enterprise filter names one enterprise: an exact name or credit code, or the only one
/// whose name or code contains the text. `Err` carries the field's message key.
async fn enterprise_id(
    state: &AppState,
    v: &Visitor,
    text: &str,
) -> Result<Result<String, &'static str>, WebError> {
    let principal = v.principal()?;
    let q = EnterpriseQuery {
        limit: Some(20),
        cursor: None,
        q: Some(text.to_owned()),
        status: None,
    };
    let found = admin::list_enterprises(state, principal, q)
        .await
        .map_err(|e| v.fail(e))?
        .items;
    let exact = found
        .iter()
        .find(|e| e.name == text || e.credit_code.eq_ignore_ascii_case(text));
    Ok(match (exact, found.as_slice()) {
        (Some(e), _) => Ok(e.id.clone()),
        (None, [one]) => Ok(one.id.clone()),
        (None, []) => Err("field.queue_enterprise_none"),
        (None, _) => Err("field.queue_enterprise_many"),
    })
}

/// The filters as `GET /tickets` pairs, or the field that is wrong.
async fn pairs(
    state: &AppState,
    v: &Visitor,
    view: QueueView,
    f: &QueueQuery,
) -> Result<(Vec<(String, String)>, Errors), WebError> {
    let mut pairs = vec![("limit".to_owned(), "20".to_owned())];
    let mut push = |k: &str, val: &str| {
        if !val.trim().is_empty() {
            pairs.push((k.to_owned(), val.trim().to_owned()));
        }
    };
    if !view.fixes_status() {
        match f.status.as_str() {
            "any" => {}
            "" | "open" => push(
                "status",
                "submitted,assigned,in_progress,awaiting_enterprise",
            ),
            s => push("status", s),
        }
    }
    push("category_id", &f.category_id);
    push("priority", &f.priority);
    push("created_from", &f.created_from);
    push("created_to", &f.created_to);
    push("q", &f.q);
    push(
        "sort",
        if f.sort == "due" {
            "due_at"
        } else {
            "-created_at"
        },
    );
    let mut errors = Errors::default();
    if !f.enterprise.trim().is_empty() {
        match enterprise_id(state, v, f.enterprise.trim()).await? {
            Ok(id) => pairs.push(("enterprise_id".to_owned(), id)),
            Err(key) => errors = Errors::one(&v.ctx, "enterprise", key),
        }
    }
    Ok((pairs, errors))
}

/// A page of `view` for the pairs of the form, parsed as `GET /tickets` does.
async fn page_of(
    state: &AppState,
    principal: crate::service::auth::Principal,
    view: QueueView,
    pairs: Vec<(String, String)>,
) -> crate::error::AppResult<crate::service::page::Page<TicketView>> {
    let filter = crate::http::filters::ticket_list(pairs, state.settings.time_zone())?;
    queue::page(state, principal, view, filter).await
}

/// The page's tickets with the names of their enterprises and assignees, read in one go.
async fn rows(
    state: &AppState,
    v: &Visitor,
    principal: crate::service::auth::Principal,
    items: Vec<TicketView>,
) -> Result<Vec<Row>, WebError> {
    let users = items
        .iter()
        .filter_map(|t| t.assignee_id.as_deref().map(str::to_owned))
        .collect();
    let enterprises = items.iter().map(|t| t.enterprise_id.to_string()).collect();
    let names = queue::names(state, principal, users, enterprises)
        .await
        .map_err(|e| v.fail(e))?;
    let now = state.clock.now_utc();
    Ok(items
        .into_iter()
        .map(|t| Row {
            due: due(&t, now),
            enterprise: names.enterprise_of(&t),
            assignee: names.assignee_of(&t).unwrap_or_default(),
            t,
        })
        .collect())
}

pub async fn show(
    state: web::Data<AppState>,
    mut v: Visitor,
    q: web::Query<QueueQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let role = v.ctx.user.as_ref().map_or(Role::Enterprise, |u| u.role);
    let views = QueueView::of(role);
    let Some(&default) = views.first() else {
        return Err(v.fail(AppError::forbidden("staff only")));
    };
    let f = q.into_inner();
    let view = QueueView::parse(&f.view)
        .filter(|x| views.contains(x))
        .unwrap_or(default);
    let (mut pairs, mut errors) = pairs(&state, &v, view, &f).await?;
    let filters = pairs.clone();
    if let Some(c) = &f.cursor {
        pairs.push(("cursor".to_owned(), c.clone()));
    }
    let page = if errors.is_empty() {
        match page_of(&state, principal.clone(), view, pairs).await {
            Ok(page) => Some(page),
            // A cursor from an old link: start again from the first page.
            Err(AppError::Invalid { errors: fields, .. })
                if fields.iter().all(|e| e.field == "cursor") =>
            {
                Some(
                    page_of(&state, principal.clone(), view, filters)
                        .await
                        .map_err(|e| v.fail(e))?,
                )
            }
            Err(AppError::Invalid { errors: fields, .. }) => {
                errors = Errors::from_fields(&v.ctx, &fields, &["created_from", "created_to"]);
                None
            }
            Err(e) => return Err(v.fail(e)),
        }
    } else {
        None
    };
    let counts = queue::counts(&state, principal.clone())
        .await
        .map_err(|e| v.fail(e))?;
    let tabs = counts
        .into_iter()
        .map(|(tab, count)| Tab {
            view: tab,
            count,
            href: f.link(tab, None),
            current: tab == view,
        })
        .collect();
    let (items, next) = page.map_or((Vec::new(), None), |p| (p.items, p.next_cursor));
    let rows = rows(&state, &v, principal, items).await?;
    let groups = console::catalogue(&state).await.map_err(|e| v.fail(e))?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        v.ctx.has_errors = true;
        StatusCode::UNPROCESSABLE_ENTITY
    };
    v.ctx.render(
        status,
        &QueuePage {
            ctx: &v.ctx,
            tabs,
            view,
            rows,
            next: next.as_deref().map(|c| f.link(view, Some(c))),
            first: f.cursor.is_some().then(|| f.link(view, None)),
            f,
            groups,
            statuses: TicketStatus::ALL.to_vec(),
            priorities: Priority::ALL.to_vec(),
            errors,
        },
    )
}
