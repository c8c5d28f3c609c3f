//! The enterprise's tickets: the list, filing, one ticket with its timeline, messages and
//! the actions the enterprise may take now.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;

use super::context::{Ctx, Errors, Visitor, WebError};
use crate::domain::ids::TicketId;
use crate::domain::role::Role;
use crate::domain::ticket::{self, Action, Priority, TicketStatus};
use crate::error::{AppError, ProblemType};
use crate::http::attachments::{drain_budget, drain_multipart, receive_all};
use crate::service::AppState;
use crate::service::attachments::{self as attachments_svc, AttachmentView};
use crate::service::console::{self, DepartmentGroup};
use crate::service::extensions::{self, ExtensionView};
use crate::service::tickets::{
    self as svc, ActionRequest, CommentView, CreateTicket, EventView, Filed, NewComment,
    TicketView, TimelineQuery,
};

/// How a deadline reads on a card or a ticket page.
pub enum Due {
    /// Open and past due: the red tag with the date.
    Overdue(DateTime<Utc>),
    Days(i64),
    Hours(i64),
    /// Waiting for the enterprise's information: the clock stands still.
    Paused,
    /// Resolved, closed or cancelled: the clock no longer runs for the department.
    None,
}

pub(crate) fn due(t: &TicketView, now: DateTime<Utc>) -> Due {
    if !t.status.is_open() {
        return Due::None;
    }
    if !t.status.clock_runs() {
        return Due::Paused;
    }
    if t.overdue || t.due_at <= now {
        return Due::Overdue(t.due_at);
    }
    let hours = (t.due_at - now).num_hours();
    if hours >= 48 {
        Due::Days(hours / 24)
    } else {
        Due::Hours(hours.max(1))
    }
}

/// One card of the list.
pub struct Card {
    pub t: TicketView,
    pub due: Due,
}

pub(crate) fn status_class(s: &TicketStatus) -> &'static str {
    match s {
        TicketStatus::Submitted | TicketStatus::Cancelled => "tag-grey",
        TicketStatus::Assigned | TicketStatus::InProgress => "tag-blue",
        TicketStatus::Resolved => "tag-turquoise",
        TicketStatus::Closed => "tag-green",
        TicketStatus::AwaitingEnterprise => "tag-amber",
    }
}

pub(crate) fn priority_key(p: &Priority) -> &'static str {
    match p {
        Priority::Low => "priority.low",
        Priority::Normal => "priority.normal",
        Priority::High => "priority.high",
        Priority::Urgent => "priority.urgent",
    }
}

#[derive(Template)]
#[template(path = "web/tickets.html")]
struct ListPage<'a> {
    ctx: &'a Ctx,
    cards: Vec<Card>,
    status: String,
    q: String,
    next: Option<String>,
    first: Option<String>,
    filtered: bool,
    statuses: Vec<TicketStatus>,
}

impl ListPage<'_> {
    fn status_class(&self, s: &TicketStatus) -> &'static str {
        status_class(s)
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    cursor: Option<String>,
}

fn link(params: &[(&str, &str)]) -> String {
    let kept: Vec<_> = params.iter().filter(|(_, v)| !v.is_empty()).collect();
    match serde_urlencoded::to_string(kept) {
        Ok(q) if !q.is_empty() => format!("/tickets?{q}"),
        _ => "/tickets".to_owned(),
    }
}

/// The enterprise's list for the pairs the page's links carry, parsed as `GET /tickets` does.
async fn listed(
    state: &AppState,
    principal: crate::service::auth::Principal,
    pairs: Vec<(String, String)>,
) -> crate::error::AppResult<crate::service::page::Page<TicketView>> {
    let filter = crate::http::filters::ticket_list(pairs, state.settings.time_zone())?;
    svc::list(state, principal, filter).await
}

pub async fn list(
    state: web::Data<AppState>,
    v: Visitor,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let q = q.into_inner();
    let status = q
        .status
        .parse::<TicketStatus>()
        .map(TicketStatus::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut pairs = vec![("limit".to_owned(), "20".to_owned())];
    if !status.is_empty() {
        pairs.push(("status".to_owned(), status.clone()));
    }
    if !q.q.trim().is_empty() {
        pairs.push(("q".to_owned(), q.q.trim().to_owned()));
    }
    let filters = pairs.clone();
    if let Some(c) = &q.cursor {
        pairs.push(("cursor".to_owned(), c.clone()));
    }
    let page = match listed(&state, principal.clone(), pairs).await {
        Ok(page) => page,
        // A cursor from an old link: start again from the first page.
        Err(AppError::Invalid { .. }) if q.cursor.is_some() => listed(&state, principal, filters)
            .await
            .map_err(|e| v.fail(e))?,
        Err(e) => return Err(v.fail(e)),
    };
    let now = state.clock.now_utc();
    let next = page
        .next_cursor
        .as_deref()
        .map(|c| link(&[("status", &status), ("q", q.q.trim()), ("cursor", c)]));
    let first = q
        .cursor
        .is_some()
        .then(|| link(&[("status", &status), ("q", q.q.trim())]));
    let cards = page
        .items
        .into_iter()
        .map(|t| Card {
            due: due(&t, now),
            t,
        })
        .collect();
    v.ctx.render(
        StatusCode::OK,
        &ListPage {
            ctx: &v.ctx,
            cards,
            filtered: !status.is_empty() || !q.q.trim().is_empty(),
            status,
            q: q.q,
            next,
            first,
            statuses: TicketStatus::ALL.to_vec(),
        },
    )
}

/// The filing form's values, named as the API's JSON fields.
#[derive(Deserialize, Default)]
pub struct NewTicketForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    idempotency_key: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Template)]
#[template(path = "web/ticket_new.html")]
struct NewPage<'a> {
    ctx: &'a Ctx,
    groups: Vec<DepartmentGroup>,
    form: NewTicketForm,
    errors: Errors,
    priorities: Vec<Priority>,
    max_attachment_mib: i64,
}

impl NewPage<'_> {
    fn attach_hint(&self) -> String {
        self.ctx.tf("ticket.attach_hint", &self.max_attachment_mib)
    }

    fn priority_key(&self, p: &Priority) -> &'static str {
        priority_key(p)
    }

    /// "5 working days" for a working-day deadline, "3 days" when the deadline is whole
    /// days, else hours.
    fn sla(&self, hours: &i32, working_days: &Option<i32>) -> String {
        if let Some(n) = working_days {
            self.ctx.tf("sla.working_days", &i64::from(*n))
        } else if *hours % 24 == 0 {
            self.ctx.tf("sla.days", &i64::from(*hours / 24))
        } else {
            self.ctx.tf("sla.hours", &i64::from(*hours))
        }
    }
}

async fn new_page(
    state: &AppState,
    v: &Visitor,
    form: NewTicketForm,
    errors: Errors,
) -> Result<HttpResponse, WebError> {
    let groups = console::catalogue(state).await.map_err(|e| v.fail(e))?;
    v.ctx.render(
        errors.status(),
        &NewPage {
            ctx: &v.ctx,
            groups,
            form,
            errors,
            priorities: Priority::ALL.to_vec(),
            max_attachment_mib: max_mib(state),
        },
    )
}

fn only_enterprises(v: &Visitor) -> Result<(), WebError> {
    v.principal()?;
    if v.ctx.is_enterprise() {
        Ok(())
    } else {
        Err(v.fail(AppError::forbidden("enterprise users only")))
    }
}

/// A fresh Idempotency-Key per render: a double click or a re-sent form files once.
pub async fn new_form(state: web::Data<AppState>, v: Visitor) -> Result<HttpResponse, WebError> {
    only_enterprises(&v)?;
    let form = NewTicketForm {
        idempotency_key: uuid::Uuid::new_v4().to_string(),
        priority: Priority::Normal.as_str().to_owned(),
        ..NewTicketForm::default()
    };
    new_page(&state, &v, form, Errors::default()).await
}

/// The filing form sent as multipart (with files): its text fields, read up to the first
/// file part, which is handed back unread; `None` when the body could not be read.
async fn read_filing(
    multipart: &mut Multipart,
) -> Option<(NewTicketForm, Option<actix_multipart::Field>)> {
    let mut form = NewTicketForm::default();
    while let Some(field) = multipart.next().await {
        let mut field = field.ok()?;
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            return Some((form, Some(field)));
        }
        let mut bytes = Vec::new();
        while let Some(piece) = field.next().await {
            bytes.extend_from_slice(&piece.ok()?);
            // The longest field, the description, is 10,000 characters.
            if bytes.len() > 64 * 1024 {
                return None;
            }
        }
        let value = String::from_utf8(bytes).ok()?;
        match name.as_str() {
            "csrf" => form.csrf = value,
            "idempotency_key" => form.idempotency_key = value,
            "category_id" => form.category_id = value,
            "priority" => form.priority = value,
            "title" => form.title = value,
            "description" => form.description = value,
            _ => {}
        }
    }
    Some((form, None))
}

/// Reads the rest of a filing's body without storing it (so the answer reaches the browser).
async fn discard(files: Option<(Multipart, Option<actix_multipart::Field>)>, budget: usize) {
    let Some((mut multipart, first)) = files else {
        return;
    };
    // The multipart stream waits for a handed-out part to be read before the next one.
    if let Some(mut field) = first {
        while let Some(Ok(_)) = field.next().await {}
    }
    drain_multipart(&mut multipart, budget).await;
}

/// Files a ticket from the form, urlencoded or multipart with attachments. The files are
/// stored once the ticket exists; if they are refused, the ticket stays filed and says so.
pub async fn create(
    state: web::Data<AppState>,
    mut v: Visitor,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let mut payload = payload.into_inner();
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|c| c.starts_with("multipart/"));
    let (form, mut files) = if is_multipart {
        let mut multipart = Multipart::new(req.headers(), payload);
        let Some((form, first)) = read_filing(&mut multipart).await else {
            return Err(v.fail(AppError::new(
                ProblemType::MalformedRequest,
                "the form could not be read",
            )));
        };
        (form, Some((multipart, first)))
    } else {
        let form = web::Form::<NewTicketForm>::from_request(&req, &mut payload)
            .await
            .map_err(|e| {
                v.fail(AppError::new(
                    ProblemType::MalformedRequest,
                    format!("the form could not be read: {e}"),
                ))
            })?;
        (form.into_inner(), None)
    };
    v.check_csrf(&form.csrf)?;
    let priority = form.priority.parse::<Priority>().ok();
    let req = CreateTicket {
        title: form.title.clone(),
        description: form.description.clone(),
        category_id: form.category_id.clone(),
        priority,
    };
    let key = (!form.idempotency_key.is_empty()).then(|| form.idempotency_key.clone());
    let budget = drain_budget(&state);
    let id = match svc::create(&state, principal.clone(), req, key).await {
        Ok(Filed::New(t)) => t.id,
        Ok(Filed::Replay { body, .. }) => {
            // The first submission filed it with its files; this one adds nothing.
            discard(files.take(), budget).await;
            serde_json::from_str::<TicketView>(&body)
                .map_err(|e| v.fail(AppError::Internal(e.into())))?
                .id
        }
        Err(AppError::Invalid {
            errors: mut fields, ..
        }) => {
            discard(files.take(), budget).await;
            // The use case stops at the first failing stage; the form names every empty field.
            if form.category_id.trim().is_empty()
                && !fields.iter().any(|f| f.field == "category_id")
            {
                fields.insert(
                    0,
                    crate::error::FieldError::new("category_id", "is required"),
                );
            }
            v.ctx.has_errors = true;
            let errors = Errors::from_fields(
                &v.ctx,
                &fields,
                &["category_id", "title", "description", "priority"],
            );
            return new_page(&state, &v, form, errors).await;
        }
        Err(e) => return Err(v.fail(e)),
    };
    let mut flash = "flash.filed";
    if let Some((mut multipart, first @ Some(_))) = files {
        let attached = async {
            let mut upload = attachments_svc::begin(&state, principal, id.clone()).await?;
            receive_all(&mut upload, first, &mut multipart, budget).await?;
            if upload.file_count() > 0 {
                upload.commit().await?;
            }
            Ok::<_, AppError>(())
        }
        .await;
        if let Err(e) = attached {
            tracing::info!(error = %e, "attachments of a new ticket refused");
            flash = "flash.filed_not_attached";
        }
    }
    v.ctx.flash_next(flash);
    Ok(v.ctx.redirect(&format!("/tickets/{id}")))
}

/// A timeline entry or message with its author as the enterprise reads them.
pub struct Entry {
    pub at: DateTime<Utc>,
    pub author: String,
    pub staff: bool,
    pub text: String,
    pub note: Option<String>,
}

#[derive(Default)]
struct Drafts {
    info: String,
    message: String,
    feedback: String,
    reopen_note: String,
    rating: String,
}

#[derive(Template)]
#[template(path = "web/ticket.html")]
struct ShowPage<'a> {
    ctx: &'a Ctx,
    t: TicketView,
    due: Due,
    category: String,
    department: String,
    /// The category's working-day deadline, worded as the statute does.
    working_days: Option<i32>,
    /// What the department asked for, while the ticket waits for it.
    info_request: Option<String>,
    can_provide: bool,
    extensions: Vec<ExtensionView>,
    timeline: Vec<Entry>,
    messages: Vec<Entry>,
    can_confirm: bool,
    can_reopen: bool,
    can_cancel: bool,
    can_reply: bool,
    errors: Errors,
    /// Someone else changed the ticket since the form was rendered.
    stale: bool,
    drafts: Drafts,
    attachments: Vec<AttachmentView>,
    max_attachment_mib: i64,
}

/// What a ticket page (the enterprise's and the staff's) shows about sizes, statuses,
/// priorities and day counts, so both templates call the same `self.…` helpers.
pub(crate) trait TicketPage {
    fn ctx(&self) -> &Ctx;
    fn max_attachment_mib(&self) -> i64;

    fn size(&self, bytes: &i64) -> String {
        super::attachments::human_size(
            *bytes,
            self.ctx().t("ticket.size_kb"),
            self.ctx().t("ticket.size_mb"),
        )
    }

    fn attach_hint(&self) -> String {
        self.ctx()
            .tf("ticket.attach_hint", &self.max_attachment_mib())
    }

    fn thumbnail(&self, content_type: &str) -> bool {
        super::attachments::thumbnail(content_type)
    }

    fn status_class(&self, s: &TicketStatus) -> &'static str {
        status_class(s)
    }

    fn priority_key(&self, p: &Priority) -> &'static str {
        priority_key(p)
    }

    fn days(&self, key: &str, n: &i32) -> String {
        self.ctx().tf(key, &i64::from(*n))
    }
}

impl TicketPage for ShowPage<'_> {
    fn ctx(&self) -> &Ctx {
        self.ctx
    }

    fn max_attachment_mib(&self) -> i64 {
        self.max_attachment_mib
    }
}

fn event_key(kind: &str) -> String {
    format!("event.{kind}")
}

pub(crate) fn name_of(
    ctx: &Ctx,
    people: &HashMap<String, (String, Role)>,
    me: &str,
    id: Option<&str>,
) -> (String, bool) {
    match id {
        None => (ctx.t("people.system").to_owned(), true),
        Some(id) if id == me => (ctx.t("people.you").to_owned(), false),
        Some(id) => match people.get(id) {
            Some((name, Role::Enterprise)) => (name.clone(), false),
            Some((name, _)) => (ctx.ts("people.staff", name), true),
            None => (ctx.t("people.unknown").to_owned(), false),
        },
    }
}

fn allowed(action: Action, status: TicketStatus) -> bool {
    ticket::allowed_from(action).contains(&status)
}

async fn show_page(
    state: &AppState,
    v: &Visitor,
    id: String,
    errors: Errors,
    stale: bool,
    drafts: Drafts,
) -> Result<HttpResponse, WebError> {
    if !v.ctx.is_enterprise() {
        let drafts = super::staff::Drafts::default().with("message", drafts.message);
        return super::staff::page(state, v, id, None, errors, stale, drafts).await;
    }
    let principal = v.principal()?;
    let Loaded {
        t,
        events,
        comments,
        extensions,
        people,
        attachments,
    } = load(state, v, id).await?;
    let extensions = extensions
        .into_iter()
        .filter(|x| x.status == ticket::ExtensionStatus::Approved)
        .collect();
    let (department, category, working_days) = placement(state, v, &t).await?;
    let info_request = (t.status == TicketStatus::AwaitingEnterprise)
        .then(|| {
            events
                .iter()
                .rev()
                .find(|e| e.kind == ticket::EventKind::InfoRequested)
                .and_then(|e| e.note.clone())
        })
        .flatten();
    let me = principal.user_id.as_str();
    let (timeline, messages) = enterprise_entries(v, &people, me, events, comments);
    let enterprise = v.ctx.is_enterprise();
    let now = state.clock.now_utc();
    let status = if stale {
        StatusCode::CONFLICT
    } else {
        errors.status()
    };
    v.ctx.render(
        status,
        &ShowPage {
            ctx: &v.ctx,
            due: due(&t, now),
            can_provide: enterprise && allowed(Action::ProvideInfo, t.status),
            info_request,
            working_days,
            extensions,
            can_confirm: enterprise && allowed(Action::Confirm, t.status),
            can_reopen: enterprise && allowed(Action::Reopen, t.status),
            can_cancel: enterprise && allowed(Action::Cancel, t.status),
            can_reply: !t.status.is_terminal(),
            t,
            category,
            department,
            timeline,
            messages,
            errors,
            stale,
            drafts,
            attachments,
            max_attachment_mib: max_mib(state),
        },
    )
}

/// Everything a ticket page shows, read through the services in the caller's scope (at most
/// 100 events, comments and extensions: the pages show a ticket's whole history).
pub(crate) struct Loaded {
    pub t: TicketView,
    pub events: Vec<EventView>,
    pub comments: Vec<CommentView>,
    pub extensions: Vec<ExtensionView>,
    pub people: HashMap<String, (String, Role)>,
    pub attachments: Vec<AttachmentView>,
}

pub(crate) async fn load(state: &AppState, v: &Visitor, id: String) -> Result<Loaded, WebError> {
    let principal = v.principal()?;
    let fail = |e| v.fail(e);
    let p = || principal.clone();
    let id = TicketId::from(id);
    let all = || TimelineQuery {
        limit: Some(100),
        cursor: None,
    };
    Ok(Loaded {
        t: svc::get(state, p(), id.clone()).await.map_err(fail)?,
        events: svc::events(state, p(), id.clone(), all())
            .await
            .map_err(fail)?
            .items,
        comments: svc::comments(state, p(), id.clone(), all())
            .await
            .map_err(fail)?
            .items,
        extensions: extensions::list(state, p(), id.clone(), all())
            .await
            .map_err(fail)?
            .items,
        people: svc::participants(state, p(), id.clone())
            .await
            .map_err(fail)?,
        attachments: attachments_svc::list(state, p(), id)
            .await
            .map_err(fail)?
            .items,
    })
}

/// The ticket's department and category names, and its working-day SLA if it has one.
pub(crate) async fn placement(
    state: &AppState,
    v: &Visitor,
    t: &TicketView,
) -> Result<(String, String, Option<i32>), WebError> {
    let groups = console::catalogue(state).await.map_err(|e| v.fail(e))?;
    Ok(groups
        .iter()
        .find_map(|g| {
            g.categories
                .iter()
                .find(|c| c.id == t.category_id.as_str())
                .map(|c| (g.name.clone(), c.name.clone(), c.sla_working_days))
        })
        .unwrap_or_default())
}

/// The enterprise's view of the history: status changes, and the conversation.
fn enterprise_entries(
    v: &Visitor,
    people: &HashMap<String, (String, Role)>,
    me: &str,
    events: Vec<EventView>,
    comments: Vec<CommentView>,
) -> (Vec<Entry>, Vec<Entry>) {
    let timeline = events
        .into_iter()
        .filter(|e| e.kind != ticket::EventKind::Comment)
        .map(|e| {
            let (author, staff) = name_of(&v.ctx, people, me, e.actor_id.as_deref());
            let key = event_key(e.kind.as_str());
            let text = if v.ctx.t(&key) == key {
                v.ctx.t("event.other").to_owned()
            } else {
                v.ctx.t(&key).to_owned()
            };
            Entry {
                at: e.created_at,
                author,
                staff,
                text,
                note: e.note,
            }
        })
        .collect();
    let messages = comments
        .into_iter()
        .map(|c| {
            let (author, staff) = name_of(&v.ctx, people, me, Some(&c.author_id));
            Entry {
                at: c.created_at,
                author,
                staff,
                text: c.body,
                note: None,
            }
        })
        .collect();
    (timeline, messages)
}

pub(crate) fn max_mib(state: &AppState) -> i64 {
    i64::try_from(state.settings.attachments.max_bytes / (1024 * 1024)).unwrap_or(i64::MAX)
}

/// The ticket page again, with a refused form's errors (the attachment upload).
pub(crate) async fn show_with_errors(
    state: &AppState,
    v: &Visitor,
    id: String,
    errors: Errors,
    stale: bool,
) -> Result<HttpResponse, WebError> {
    show_page(state, v, id, errors, stale, Drafts::default()).await
}

#[derive(Deserialize)]
pub struct ShowQuery {
    /// Staff reassigning: the department whose officials to offer.
    department: Option<String>,
}

pub async fn show(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
    q: web::Query<ShowQuery>,
) -> Result<HttpResponse, WebError> {
    if !v.ctx.is_enterprise() {
        let department = q.into_inner().department;
        let (errors, drafts) = (Errors::default(), super::staff::Drafts::default());
        return super::staff::page(
            &state,
            &v,
            id.into_inner(),
            department,
            errors,
            false,
            drafts,
        )
        .await;
    }
    show_page(
        &state,
        &v,
        id.into_inner(),
        Errors::default(),
        false,
        Drafts::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "web/ticket_cancel.html")]
struct CancelPage<'a> {
    ctx: &'a Ctx,
    t: TicketView,
}

/// Cancelling cannot be undone: a page naming the ticket holds the real button.
pub async fn cancel_form(
    state: web::Data<AppState>,
    v: Visitor,
    id: web::Path<String>,
) -> Result<HttpResponse, WebError> {
    let principal = v.principal()?;
    let t = svc::get(&state, principal, id.into_inner().into())
        .await
        .map_err(|e| v.fail(e))?;
    if !allowed(Action::Cancel, t.status) {
        return Ok(v.ctx.redirect(&format!("/tickets/{}", t.id)));
    }
    v.ctx.render(StatusCode::OK, &CancelPage { ctx: &v.ctx, t })
}

#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

pub async fn comment(
    state: web::Data<AppState>,
    mut v: Visitor,
    id: web::Path<String>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let id = id.into_inner();
    let body = form.into_inner().body;
    let req = NewComment {
        body: body.clone(),
        kind: None,
    };
    let (errors, stale) =
        match svc::comment(&state, principal, TicketId::from(id.clone()), req).await {
            Ok(_) => {
                v.ctx.flash_next("flash.replied");
                return Ok(v.ctx.redirect(&format!("/tickets/{id}#messages")));
            }
            Err(AppError::Invalid { .. }) => (Errors::one(&v.ctx, "body", "field.body"), false),
            Err(e) if e.kind() == crate::error::ProblemType::TicketClosed => {
                (Errors::one(&v.ctx, "body", "field.closed"), true)
            }
            Err(e) => return Err(v.fail(e)),
        };
    v.ctx.has_errors = true;
    let drafts = Drafts {
        message: body,
        ..Drafts::default()
    };
    show_page(&state, &v, id, errors, stale, drafts).await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    rating: String,
    #[serde(default)]
    feedback: String,
    #[serde(default)]
    pub note: String,
    /// Staff actions: resolve.
    #[serde(default)]
    pub resolution: String,
    /// Staff actions: assign.
    #[serde(default)]
    pub department_id: String,
    #[serde(default)]
    pub assignee_id: String,
}

/// confirm, reopen or cancel (staff: their actions), against the version the form was
/// rendered from (If-Match): a stale form shows the ticket as it is now, with the user's
/// words kept.
pub async fn act(
    state: web::Data<AppState>,
    mut v: Visitor,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> Result<HttpResponse, WebError> {
    let principal = v.submitter(&form.csrf)?;
    let (id, action) = path.into_inner();
    if !v.ctx.is_enterprise() {
        let action = match action.parse::<Action>() {
            Ok(Action::Confirm | Action::Reopen | Action::Cancel | Action::ProvideInfo)
            | Err(_) => return Err(v.fail(AppError::not_found("action"))),
            Ok(a) => a,
        };
        return super::staff::act(&state, v, id, action, form.into_inner()).await;
    }
    let action = match action.parse::<Action>() {
        Ok(a @ (Action::Confirm | Action::Reopen | Action::Cancel | Action::ProvideInfo)) => a,
        _ => return Err(v.fail(AppError::not_found("action"))),
    };
    let form = form.into_inner();
    let text = |s: &str| (!s.trim().is_empty()).then(|| s.to_owned());
    let req = ActionRequest {
        rating: form.rating.parse().ok(),
        feedback: text(&form.feedback),
        note: text(&form.note),
        ..ActionRequest::default()
    };
    let if_match = Some(format!("\"{}\"", form.version.trim()));
    let (errors, stale) = match svc::act(
        &state,
        principal,
        TicketId::from(id.clone()),
        action,
        req,
        if_match,
    )
    .await
    {
        Ok(_) => {
            v.ctx.flash_next(match action {
                Action::Confirm => "flash.confirmed",
                Action::Reopen => "flash.reopened",
                Action::ProvideInfo => "flash.provided",
                _ => "flash.cancelled",
            });
            return Ok(v.ctx.redirect(&format!("/tickets/{id}")));
        }
        Err(AppError::Invalid { errors: fields, .. }) => {
            let field = fields.first().map_or("rating", |f| f.field.as_str());
            let errors = match (action, field) {
                (Action::Confirm, "feedback") => Errors::one(&v.ctx, "feedback", "field.feedback"),
                (Action::Confirm, _) => Errors::one(&v.ctx, "rating", "field.rating"),
                (Action::Reopen, _) => Errors::one(&v.ctx, "note", "field.reopen_note"),
                (Action::ProvideInfo, _) => Errors::one(&v.ctx, "info", "field.provide_note"),
                _ => Errors::one(&v.ctx, "note", "field.cancel_note"),
            };
            (errors, false)
        }
        Err(e) if matches!(e.kind().code(), "precondition_failed" | "conflict") => {
            (Errors::one(&v.ctx, "stale", "field.stale"), true)
        }
        Err(e) => return Err(v.fail(e)),
    };
    v.ctx.has_errors = true;
    let drafts = Drafts {
        feedback: form.feedback,
        info: if action == Action::ProvideInfo {
            form.note.clone()
        } else {
            String::new()
        },
        reopen_note: if action == Action::Reopen {
            form.note
        } else {
            String::new()
        },
        rating: form.rating,
        message: String::new(),
    };
    show_page(&state, &v, id, errors, stale, drafts).await
}
